import { backgroundJobRecordSchema } from '../entities/background-job-record.entity';
import { renamingConnection } from './renaming-connection';
import { TableNames } from './table-names';

describe('TableNames', () => {
  it("ABP's defaults rename nothing: the statements are sent as written", () => {
    for (const dialect of ['postgres', 'mysql', 'sqlite', 'mssql'] as const) {
      const names = new TableNames(dialect);
      expect(names.isDefault).toBe(true);
      expect(names.sql('SELECT 1 FROM "AbpBackgroundJobs"')).toBe('SELECT 1 FROM "AbpBackgroundJobs"');
      expect(names.tag).toBe('');
      expect(names.channel('abp_background_jobs')).toBe('abp_background_jobs');
    }
    const pool = { query: () => undefined };
    expect(renamingConnection(pool, new TableNames('postgres'))).toBe(pool);
  });

  it.each([
    ['App-1', undefined, 'the table prefix "App-1" is not usable'],
    ['x"; DROP TABLE y; --', undefined, 'letters, digits and underscores only'],
    ['A'.repeat(21), undefined, 'at most 20 characters'],
    ['App', 'dbo.x', 'the schema "dbo.x" is not usable'],
    ['App', 'a]b', 'the schema "a]b" is not usable'],
  ])('refuses prefix %j schema %j with a clear error', (tablePrefix, schema, message) => {
    expect(() => new TableNames('postgres', { tablePrefix, schema })).toThrow(message);
  });

  it('refuses a schema on SQLite, which has none', () => {
    expect(() => new TableNames('sqlite', { schema: 'jobs' })).toThrow('SQLite has no schemas');
    expect(new TableNames('sqlite', { tablePrefix: 'App' }).table).toBe('AppBackgroundJobs');
  });

  it('PostgreSQL: tables schema-qualified, index and constraint names prefixed, catalog lookups in the schema', () => {
    const names = new TableNames('postgres', { tablePrefix: 'App', schema: 'jobs' });
    expect(
      names.sql(
        `CREATE TABLE IF NOT EXISTS "AbpBackgroundJobEnqueueKeys" (CONSTRAINT "PK_AbpBackgroundJobEnqueueKeys" PRIMARY KEY ("Id"))`,
      ),
    ).toBe(
      `CREATE TABLE IF NOT EXISTS "jobs"."AppBackgroundJobEnqueueKeys" (CONSTRAINT "PK_AppBackgroundJobEnqueueKeys" PRIMARY KEY ("Id"))`,
    );
    expect(names.sql(`CREATE INDEX "IX_AbpBackgroundJobs_Dequeue" ON "AbpBackgroundJobs" ("Priority")`)).toBe(
      `CREATE INDEX "IX_AppBackgroundJobs_Dequeue" ON "jobs"."AppBackgroundJobs" ("Priority")`,
    );
    expect(
      names.sql(
        `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'AbpBackgroundJobs'`,
      ),
    ).toBe(`SELECT indexname FROM pg_indexes WHERE schemaname = 'jobs' AND tablename = 'AppBackgroundJobs'`);
    expect(names.sql(`to_regclass('"AbpBackgroundJobs"')`)).toBe(`to_regclass('"jobs"."AppBackgroundJobs"')`);
    // ABP's index as EF Core names it for the prefixed table, cut at 63 characters with "~".
    expect(names.sql('"IX_AbpBackgroundJobs_ApplicationName_CompletionTime_IsAbandone~"')).toBe(
      '"IX_AppBackgroundJobs_ApplicationName_CompletionTime_IsAbandone~"',
    );
    const long = new TableNames('postgres', { tablePrefix: 'Longer' });
    expect(long.sql('"IX_AbpBackgroundJobs_ApplicationName_CompletionTime_IsAbandone~"')).toBe(
      '"IX_LongerBackgroundJobs_ApplicationName_CompletionTime_IsAband~"',
    );
    expect(names.sql(`SELECT pg_notify('abp_background_jobs_cancel', '')`)).toBe(
      `SELECT pg_notify('jobs_app_background_jobs_cancel', '')`,
    );
    expect(names.channel('abp_background_jobs')).toBe('jobs_app_background_jobs');
    const longest = new TableNames('postgres', { tablePrefix: 'P'.repeat(20), schema: 's'.repeat(63) });
    expect(longest.channel('abp_background_jobs_cancel').length).toBeLessThanOrEqual(63);
    expect(longest.sql(`pg_notify('abp_background_jobs_cancel', '')`)).toBe(
      `pg_notify('${longest.channel('abp_background_jobs_cancel')}', '')`,
    );
    expect(names.regclass('"IX_AbpBackgroundJobEnqueueKeys_CreationTime"')).toBe(
      '"jobs"."IX_AppBackgroundJobEnqueueKeys_CreationTime"',
    );
    expect(names.original('CREATE INDEX "IX_AppBackgroundJobs_New" ON jobs."AppBackgroundJobs" USING btree')).toBe(
      'CREATE INDEX "IX_AbpBackgroundJobs_New" ON "AbpBackgroundJobs" USING btree',
    );
  });

  it('MySQL quotes with backticks and looks in the schema (a database) for DATABASE()', () => {
    const names = new TableNames('mysql', { tablePrefix: 'App', schema: 'jobs' });
    expect(names.sql('SELECT * FROM `AbpBackgroundJobs` WHERE TABLE_SCHEMA = DATABASE()')).toBe(
      "SELECT * FROM `jobs`.`AppBackgroundJobs` WHERE TABLE_SCHEMA = 'jobs'",
    );
    expect(names.sql('`IX_AbpBackgroundJobs_ApplicationName_CompletionTime_IsAbandoned~`')).toBe(
      '`IX_AppBackgroundJobs_ApplicationName_CompletionTime_IsAbandoned~`',
    );
    expect(names.original('IX_AppBackgroundJobs_ApplicationName_CompletionTime_IsAbandoned~')).toBe(
      'IX_AbpBackgroundJobs_ApplicationName_CompletionTime_IsAbandoned~',
    );
  });

  it('SQL Server quotes with brackets, inside OBJECT_ID too; its index names are not cut', () => {
    const names = new TableNames('mssql', { tablePrefix: 'App', schema: 'jobs' });
    expect(
      names.sql("IF OBJECT_ID(N'[AbpBackgroundJobWorkers]', N'U') IS NULL SELECT 1 FROM [AbpBackgroundJobs]"),
    ).toBe("IF OBJECT_ID(N'[jobs].[AppBackgroundJobWorkers]', N'U') IS NULL SELECT 1 FROM [jobs].[AppBackgroundJobs]");
    expect(names.sql('[IX_AbpBackgroundJobs_ApplicationName_CompletionTime_IsAbandoned_NextTryTime]')).toBe(
      '[IX_AppBackgroundJobs_ApplicationName_CompletionTime_IsAbandoned_NextTryTime]',
    );
  });

  it('a renaming connection renames each statement, tags prepared statements, and renames on the connections it hands out', async () => {
    const sent: unknown[] = [];
    const client = { query: (statement: unknown) => sent.push(statement), release: () => undefined };
    const pool = { query: (statement: unknown) => sent.push(statement), connect: async () => client };
    const names = new TableNames('postgres', { tablePrefix: 'App' });
    const renamed = renamingConnection(pool, names);
    renamed.query('SELECT * FROM "AbpBackgroundJobs"');
    renamed.query({ name: 'bj_find', text: 'SELECT * FROM "AbpBackgroundJobs"', values: [1] });
    (await renamed.connect()).query('DELETE FROM "AbpBackgroundJobWorkers"');
    expect(sent).toEqual([
      'SELECT * FROM "AppBackgroundJobs"',
      { name: `bj_find${names.tag}`, text: 'SELECT * FROM "AppBackgroundJobs"', values: [1] },
      'DELETE FROM "AppBackgroundJobWorkers"',
    ]);
    expect(names.tag).not.toBe('');
    expect(new TableNames('postgres', { tablePrefix: 'Other' }).tag).not.toBe(names.tag);
  });

  it('the TypeORM entity maps the prefixed table in the schema, with its key and ABP index named after it', () => {
    const { options } = backgroundJobRecordSchema('postgres', { tablePrefix: 'App', schema: 'jobs' });
    expect(options).toMatchObject({ tableName: 'AppBackgroundJobs', schema: 'jobs' });
    expect(options.columns.id).toMatchObject({ primaryKeyConstraintName: 'PK_AppBackgroundJobs' });
    expect(options.indices?.[0].name).toBe('IX_AppBackgroundJobs_ApplicationName_CompletionTime_IsAbandone~');
    expect(backgroundJobRecordSchema('postgres').options).toMatchObject({ tableName: 'AbpBackgroundJobs' });
    expect(backgroundJobRecordSchema('postgres').options.schema).toBeUndefined();
    expect(backgroundJobRecordSchema('postgres', {})).toBe(backgroundJobRecordSchema('postgres'));
  });

  it("lock names: as given with ABP's defaults (older workers keep excluding newer ones), else with the schema and prefix", () => {
    expect(new TableNames('postgres').lockName('AbpBackgroundJobCleanup')).toBe('AbpBackgroundJobCleanup');
    expect(new TableNames('postgres', { tablePrefix: 'Custom' }).lockName('AbpBackgroundJobCleanup')).toBe(
      'AbpBackgroundJobCleanup@Custom',
    );
    expect(new TableNames('mssql', { schema: 'jobs' }).lockName('AbpBackgroundJobCleanup')).toBe(
      'AbpBackgroundJobCleanup@jobs.Abp',
    );
  });
});

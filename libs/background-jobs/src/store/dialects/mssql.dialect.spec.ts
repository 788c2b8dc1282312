import { Logger } from '@nestjs/common';
import {
  claimLimit,
  MAX_CLAIM_READ_LOCKS,
  MAX_CLAIM_ROWS,
  MIGRATION_LOCK_TIMEOUT_MS,
  MssqlBackgroundJobStore,
} from './mssql.dialect';
import { SqlParam } from './mssql-runner';
import { ClaimRequest, MAX_DUE_JOB_NAMES } from '../background-job-store';
import { ABP_TABLE_SHAPE } from '../table-shape';
import { claimedRow, ID1, ID2, LEASE, record, T0 } from '../../../../../test/support/mssql/fixtures';
import { knowingTheTable, oneLine, RecordingSqlRunner } from '../../../../../test/support/mssql/recording-sql-runner';
import { ABP_10_6_INDEX, ABP_9_INDEX, catalogRows } from '../../../../../test/support/mssql/migration-catalog';
import { recordStoreStatements } from '../../../../../test/support/mssql/store-statements';

/**
 * No SQL Server runs here. What the dialect sends is pinned in two ways: Microsoft's T-SQL parser
 * checks every statement's syntax (test/contract/mssql-statements.test.ts), and these tests check
 * each parameter's name, SQL type and value, and the parts of the SQL that carry meaning (hints,
 * OUTPUT, the lease and due predicates, the index the claim seeks). The contract suite runs the
 * same statements on a real server when MSSQL_CONNECTION_STRING is set.
 */

/** A row as find() gets it from tedious. */
function serverRow(overrides: Record<string, unknown> = {}) {
  return {
    ...claimedRow(),
    ApplicationName: null,
    NextTryTime: new Date(T0.getTime() + 60_000),
    LastTryTime: T0,
    IsAbandoned: false,
    CompletionTime: null,
    ConcurrencyStamp: LEASE,
    ...overrides,
  };
}

const jsonLength = (param: SqlParam) => (JSON.parse(param.value as string) as unknown[]).length;
const ids = (count: number) =>
  Array.from({ length: count }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
/** The fenced writes' predicate: the row changes only while the caller's lease token is its stamp. */
const FENCED = '[ConcurrencyStamp] = @leaseToken';
const IDS_FROM_JSON = "[Id] IN (SELECT [Id] FROM OPENJSON(@ids) WITH ([Id] uniqueidentifier '$'))";

describe('MssqlBackgroundJobStore: what it sends', () => {
  let sql: RecordingSqlRunner;
  let store: MssqlBackgroundJobStore;
  beforeEach(async () => {
    sql = new RecordingSqlRunner();
    store = new MssqlBackgroundJobStore(sql);
    await knowingTheTable(store, sql);
  });

  describe('migrate', () => {
    /** Runs a migration whose catalog batch finds these rows; returns the DDL batch it sent. */
    const migrate = async (catalog: Array<Record<string, unknown>>) => {
      sql.reply({ rows: catalog });
      await store.migrate();
      expect(sql.calls).toHaveLength(2);
      return oneLine(sql.calls[1].sql);
    };
    const ABP_9_1 = { applicationName: false, completionTime: false };

    it('runs one transaction: a transaction-owned applock and the catalog, then the DDL that catalog calls for', async () => {
      await migrate(catalogRows(undefined));
      const [catalog, ddl] = sql.calls;
      expect([catalog.params, ddl.params, catalog.inTransaction, ddl.inTransaction]).toEqual([[], [], true, true]);
      expect(catalog.sql).toMatch(/^SET XACT_ABORT ON;/);
      expect(oneLine(catalog.sql)).toContain(
        "sp_getapplock @Resource = N'AbpBackgroundJobs.migrate', @LockMode = N'Exclusive', @LockOwner = N'Transaction'",
      );
      expect(oneLine(catalog.sql)).toContain(
        "FROM sys.columns AS [c] WHERE [c].[object_id] = OBJECT_ID(N'[AbpBackgroundJobs]', N'U')",
      );
      expect(sql.transactions).toEqual(['committed']);
    });

    it('waits longer for the migration than sp_getapplock waits, so its own timeout error is reached and a large index build finishes', async () => {
      await migrate(catalogRows(undefined));
      const lockTimeout = Number(/@LockTimeout = (\d+)/.exec(sql.calls[0].sql)?.[1]);
      expect(lockTimeout).toBe(MIGRATION_LOCK_TIMEOUT_MS);
      expect(sql.calls[0].sql).toContain(`Timed out after ${lockTimeout / 1000} s waiting for another process`);
      // The pool's request timeout is 30 s (SqlClient's); the migration's must outlast the lock wait by far.
      for (const call of sql.calls)
        expect(call.options?.requestTimeoutMs).toBeGreaterThanOrEqual(lockTimeout + 5 * 60_000);
    });

    it("creates ABP 10.6's table where there is none: ABP's SQL Server types, PK and index, and our indexes", async () => {
      const batch = await migrate(catalogRows(undefined));
      for (const column of [
        'CREATE TABLE [AbpBackgroundJobs] (',
        '[Id] uniqueidentifier NOT NULL',
        '[ApplicationName] nvarchar(96) NULL',
        '[JobName] nvarchar(128) NOT NULL',
        '[JobArgs] nvarchar(max) NOT NULL',
        '[TryCount] smallint NOT NULL DEFAULT CAST(0 AS smallint)',
        '[CreationTime] datetime2 NOT NULL',
        '[NextTryTime] datetime2 NOT NULL',
        '[LastTryTime] datetime2 NULL',
        '[IsAbandoned] bit NOT NULL DEFAULT CAST(0 AS bit)',
        '[Priority] tinyint NOT NULL DEFAULT CAST(15 AS tinyint)',
        '[CompletionTime] datetime2 NULL',
        '[ExtraProperties] nvarchar(max) NOT NULL',
        '[ConcurrencyStamp] nvarchar(40) NOT NULL',
        'CONSTRAINT [PK_AbpBackgroundJobs] PRIMARY KEY ([Id])',
        'CREATE INDEX [IX_AbpBackgroundJobs_ApplicationName_CompletionTime_IsAbandoned_NextTryTime] ON [AbpBackgroundJobs] ([ApplicationName], [CompletionTime], [IsAbandoned], [NextTryTime]);',
      ])
        expect(batch).toContain(column);
      // ABP 10.6's migration dropped this one: a table we make never has it.
      expect(batch).not.toContain('IX_AbpBackgroundJobs_IsAbandoned_NextTryTime');
      for (const name of ['Dequeue', 'New', 'Tried', 'Abandoned', 'Completed'])
        expect(batch).toContain(`EXEC(N'CREATE INDEX [IX_AbpBackgroundJobs_${name}] ON [AbpBackgroundJobs] (`);
    });

    it('keys the dequeue index by job name before the dequeue order, and rebuilds an older one in place', async () => {
      const keys =
        '([ApplicationName], [CompletionTime], [IsAbandoned], [JobName], [Priority] DESC, [TryCount], [NextTryTime]) INCLUDE ([ConcurrencyStamp])';
      expect(await migrate(catalogRows(undefined))).toContain(
        `EXEC(N'CREATE INDEX [IX_AbpBackgroundJobs_Dequeue] ON [AbpBackgroundJobs] ${keys}');`,
      );
      sql.calls.length = 0;
      const older = {
        kind: 'index',
        name: 'IX_AbpBackgroundJobs_Dequeue',
        keys: 'ApplicationName,CompletionTime,IsAbandoned,Priority DESC,TryCount,NextTryTime',
        included: 'ConcurrencyStamp',
        filter: null,
      };
      const rows = catalogRows(ABP_TABLE_SHAPE, { abpIndex: ABP_10_6_INDEX, oursFor: ABP_TABLE_SHAPE }).map((r) =>
        r.name === older.name ? older : r,
      );
      const batch = await migrate(rows);
      expect(batch).toContain(
        `EXEC(N'CREATE INDEX [IX_AbpBackgroundJobs_Dequeue] ON [AbpBackgroundJobs] ${keys} WITH (DROP_EXISTING = ON)');`,
      );
      expect(batch.match(/CREATE INDEX/g)).toHaveLength(2); // and the enqueue keys' guard
    });

    it("adopts ABP 9.1's table adding only objects of ours, none naming a column the table lacks", async () => {
      const batch = await migrate(catalogRows(ABP_9_1, { abpIndex: ABP_9_INDEX }));
      expect(batch).not.toContain('CREATE TABLE [AbpBackgroundJobs]');
      expect(batch).not.toMatch(/ALTER TABLE|DROP INDEX/);
      expect(batch).not.toContain('IX_AbpBackgroundJobs_ApplicationName_CompletionTime_IsAbandoned_NextTryTime');
      const ours = batch.split(/(?=EXEC\(N'CREATE INDEX)/).filter((part) => part.includes('ON [AbpBackgroundJobs] ('));
      expect(ours.map((part) => /\[(IX_AbpBackgroundJobs_\w+)\]/.exec(part)?.[1])).toEqual([
        'IX_AbpBackgroundJobs_Dequeue',
        'IX_AbpBackgroundJobs_New',
        'IX_AbpBackgroundJobs_Tried',
        'IX_AbpBackgroundJobs_Abandoned',
      ]);
      for (const part of ours) expect(part).not.toMatch(/\[(ApplicationName|CompletionTime)\]/);
      expect(await store.hasCompletionTimeColumn()).toBe(false);
    });

    it('sends no DDL on the table when the catalog finds it ready, so a login that may only read and write rows migrates', async () => {
      const batch = await migrate(catalogRows(ABP_TABLE_SHAPE, { abpIndex: ABP_10_6_INDEX, oursFor: ABP_TABLE_SHAPE }));
      expect(batch).not.toMatch(/CREATE INDEX \[IX_AbpBackgroundJobs_|CREATE TABLE \[AbpBackgroundJobs\]/);
      expect(batch).toMatch(/^IF OBJECT_ID\(N'\[AbpBackgroundJobEnqueueKeys\]', N'U'\) IS NULL/);
    });

    it("makes our indexes again once ABP's own migrations gave an adopted table ApplicationName and CompletionTime", async () => {
      const batch = await migrate(catalogRows(ABP_TABLE_SHAPE, { abpIndex: ABP_10_6_INDEX, oursFor: ABP_9_1 }));
      for (const name of ['Dequeue', 'New', 'Tried', 'Abandoned'])
        expect(batch).toMatch(
          new RegExp(`CREATE INDEX \\[IX_AbpBackgroundJobs_${name}\\] [^']*WITH \\(DROP_EXISTING = ON\\)'\\);`),
        );
      expect(batch).toMatch(/CREATE INDEX \[IX_AbpBackgroundJobs_Completed\] [^']*\[CompletionTime\] IS NOT NULL'\);/);
    });

    it('says which permission the login lacks, and how to migrate with another login', async () => {
      sql.reply(
        { rows: catalogRows(ABP_9_1, { abpIndex: ABP_9_INDEX }) },
        Object.assign(
          new Error(
            'Cannot find the object "AbpBackgroundJobs" because it does not exist or you do not have permissions.',
          ),
          { number: 1088 },
        ),
      );
      const failed = store.migrate();
      await expect(failed).rejects.toThrow(/creating our index IX_AbpBackgroundJobs_Dequeue on AbpBackgroundJobs/);
      await expect(failed).rejects.toThrow(/ALTER on the table AbpBackgroundJobs/);
      await expect(failed).rejects.toThrow(/ConnectionStrings__AbpBackgroundJobsMigration .* `npm run migrate`/);
      expect(sql.transactions).toEqual(['rolled back']);
    });
  });

  describe('insert', () => {
    it('sends the rows as one JSON parameter, times as language-neutral datetime2 text', async () => {
      const full = record({
        applicationName: 'app',
        tryCount: 2,
        lastTryTime: new Date('2030-06-15T11:59:00.5Z'),
        isAbandoned: true,
        priority: 25,
        completionTime: new Date('2030-06-15T12:01:02.003Z'),
      });
      await store.insert([full, record({ id: ID2 })]);
      expect(sql.calls).toHaveLength(1);
      expect(sql.calls[0]).toMatchObject({ inTransaction: false, options: undefined });
      expect(sql.calls[0].sql).toMatch(/^INSERT INTO \[AbpBackgroundJobs\] WITH \(ROWLOCK\)/);
      expect(sql.calls[0].params).toEqual([
        { name: 'rows', type: 'nvarchar(max)', value: expect.any(String) as unknown },
      ]);
      const sent = JSON.parse(sql.calls[0].params[0].value as string) as Array<Record<string, unknown>>;
      expect(sent[0]).toEqual({
        id: ID1,
        applicationName: 'app',
        jobName: 'MyReportJobArgs',
        jobArgs: '{"content":"x"}',
        tryCount: 2,
        creationTime: '2030-06-15 12:00:00.000',
        nextTryTime: '2030-06-15 12:00:00.000',
        lastTryTime: '2030-06-15 11:59:00.500',
        isAbandoned: true,
        priority: 25,
        completionTime: '2030-06-15 12:01:02.003',
        extraProperties: '{}',
        concurrencyStamp: '0123456789abcdef0123456789abcdef',
      });
      expect(sent[1]).toMatchObject({
        id: ID2,
        applicationName: null,
        lastTryTime: null,
        completionTime: null,
        isAbandoned: false,
      });
    });

    it('reads each JSON property as its column type', async () => {
      await store.insert([record()]);
      const batch = oneLine(sql.calls[0].sql);
      for (const property of [
        "[Id] uniqueidentifier '$.id'",
        "[TryCount] smallint '$.tryCount'",
        "[CreationTime] datetime2 '$.creationTime'",
        "[IsAbandoned] bit '$.isAbandoned'",
        "[Priority] tinyint '$.priority'",
        "[ConcurrencyStamp] nvarchar(40) '$.concurrencyStamp'",
      ])
        expect(batch).toContain(property);
    });

    it('splits more than 1,000 rows into statements of 1,000 inside one transaction', async () => {
      await store.insert(ids(2500).map((id) => record({ id })));
      expect(sql.calls.map((c) => [c.inTransaction, jsonLength(c.params[0])])).toEqual([
        [true, 1000],
        [true, 1000],
        [true, 500],
      ]);
      expect(new Set(sql.calls.map((c) => c.sql)).size).toBe(1);
      expect(sql.transactions).toEqual(['committed']);
    });
  });

  describe('enqueue', () => {
    const FP = 'ab'.repeat(32);
    const batch = (keyed: boolean, count = 1) => ({
      applicationName: null,
      creationTime: T0,
      jobs: ids(count).map((id) => ({
        id,
        jobName: 'MyReportJobArgs',
        jobArgs: '{"content":"x"}',
        priority: 15,
        nextTryTime: T0,
        concurrencyStamp: '0123456789abcdef0123456789abcdef',
      })),
      ...(keyed ? { keys: ids(count).map((id) => ({ id, fingerprint: FP })) } : {}),
    });
    const isKeyInsert = (text: string) => text.startsWith('INSERT INTO [AbpBackgroundJobEnqueueKeys]');

    it('sends one INSERT and no transaction for jobs without chosen ids', async () => {
      await store.enqueue(batch(false));
      expect(sql.calls.map((c) => [isKeyInsert(c.sql), c.params.map((p) => p.name), c.inTransaction])).toEqual([
        [false, ['rows'], false],
      ]);
      expect(sql.transactions).toEqual([]);
    });

    it('writes the keys, then the rows, in one transaction', async () => {
      await store.enqueue(batch(true));
      expect(sql.calls[0].params).toEqual([
        {
          name: 'keys',
          type: 'nvarchar(max)',
          value: JSON.stringify([{ id: '00000000-0000-4000-8000-000000000000', fingerprint: FP }]),
        },
        { name: 'creationTime', type: 'datetime2', value: T0 },
      ]);
      expect(sql.calls.map((c) => [isKeyInsert(c.sql), c.inTransaction])).toEqual([
        [true, true],
        [false, true],
      ]);
      expect(sql.transactions).toEqual(['committed']);
    });

    it('rolls the keys back when the rows cannot be written', async () => {
      sql.reply({ rowsAffected: 1 }, Object.assign(new Error('Violation of PRIMARY KEY constraint'), { number: 2627 }));
      await expect(store.enqueue(batch(true))).rejects.toMatchObject({ number: 2627 });
      expect(sql.transactions).toEqual(['rolled back']);
    });

    it('splits 1,500 keys and rows into statements of at most 1,000 inside the one transaction', async () => {
      await store.enqueue(batch(true, 1500));
      expect(sql.calls.map((c) => [isKeyInsert(c.sql), c.inTransaction, jsonLength(c.params[0])])).toEqual([
        [true, true, 1000],
        [true, true, 500],
        [false, true, 1000],
        [false, true, 500],
      ]);
      expect(sql.transactions).toEqual(['committed']);
    });
  });

  describe('enqueue keys', () => {
    it('findEnqueueKeys reads keys by uniqueidentifier, 1,000 ids per statement, and gives ids in lower case', async () => {
      sql.reply(
        { rows: [{ Id: ID1.toUpperCase(), Fingerprint: 'f1' }] },
        { rows: [{ Id: ID2.toUpperCase(), Fingerprint: 'f2' }] },
      );
      expect(await store.findEnqueueKeys(ids(1001))).toEqual([
        { id: ID1, fingerprint: 'f1' },
        { id: ID2, fingerprint: 'f2' },
      ]);
      expect(sql.calls.map((c) => [c.params.map((p) => [p.name, p.type]), jsonLength(c.params[0])])).toEqual([
        [[['ids', 'nvarchar(max)']], 1000],
        [[['ids', 'nvarchar(max)']], 1],
      ]);
      expect(oneLine(sql.calls[0].sql)).toContain(IDS_FROM_JSON);
    });

    it('deleteEnqueueKeysBefore deletes at most @limit keys older than @before and returns how many', async () => {
      sql.reply({ rowsAffected: 3 });
      expect(await store.deleteEnqueueKeysBefore(T0, 1000)).toBe(3);
      expect(sql.calls[0].params).toEqual([
        { name: 'limit', type: 'int', value: 1000 },
        { name: 'before', type: 'datetime2', value: T0 },
      ]);
      expect(sql.calls[0].sql).toContain('DELETE TOP (@limit) FROM [AbpBackgroundJobEnqueueKeys] WITH (ROWLOCK)');
      expect(sql.calls[0].sql).toContain('[CreationTime] < @before');
    });
  });

  describe('claim', () => {
    const request: ClaimRequest = {
      applicationName: 'app',
      jobNames: ['MyReportJobArgs', 'Other'],
      limit: 10,
      now: T0,
      leaseUntil: new Date(T0.getTime() + 60_000),
      leaseToken: LEASE,
    };
    const claimSql = async (overrides: Partial<ClaimRequest> = {}) => {
      await store.claim({ ...request, ...overrides });
      return oneLine(sql.calls[sql.calls.length - 1].sql);
    };

    it("sends its parameters with their column types, the job names once each as JSON, and reads each row's due time", async () => {
      const dueTime = new Date(T0.getTime() - 1500);
      sql.reply({ rows: [claimedRow({ PreviousLeaseExpired: true, DueTime: dueTime })], rowsAffected: 2 });
      const claimed = await store.claim({ ...request, jobNames: ['MyReportJobArgs', 'Other', 'MyReportJobArgs'] });
      expect(sql.calls).toHaveLength(1);
      expect(sql.calls[0].params).toEqual([
        { name: 'limit', type: 'int', value: 10 },
        { name: 'now', type: 'datetime2', value: T0 },
        { name: 'jobNames', type: 'nvarchar(max)', value: '["MyReportJobArgs","Other"]' },
        { name: 'leaseUntil', type: 'datetime2', value: request.leaseUntil },
        { name: 'leaseToken', type: 'nvarchar(40)', value: LEASE },
        { name: 'applicationName', type: 'nvarchar(96)', value: 'app' },
      ]);
      expect(claimed).toEqual([
        {
          id: ID1,
          applicationName: 'app',
          jobName: 'MyReportJobArgs',
          jobArgs: '{"content":"x"}',
          tryCount: 1,
          creationTime: T0,
          nextTryTime: request.leaseUntil,
          lastTryTime: T0,
          isAbandoned: false,
          priority: 15,
          completionTime: null,
          extraProperties: '{}',
          concurrencyStamp: LEASE,
          leaseToken: LEASE,
          previousLeaseExpired: true,
          dueTime,
        },
      ]);
    });

    it('matches NULL application names with IS NULL and sends no applicationName parameter', async () => {
      const text = await claimSql({ applicationName: null });
      expect(text).toContain('WHERE [ApplicationName] IS NULL AND');
      expect(text).not.toContain('@applicationName');
      expect(sql.calls[0].params.map((p) => p.name)).toEqual(['limit', 'now', 'jobNames', 'leaseUntil', 'leaseToken']);
    });

    it('outputs INTO a table variable and selects it, so a trigger on the table cannot fail the claim (error 334)', async () => {
      const text = await claimSql();
      expect(text).toContain('deleted.[NextTryTime] INTO @claimed');
      expect(text).toMatch(/^DECLARE @claimed TABLE \(/);
      expect(text).toMatch(/ OUTPUT inserted\.\[Id\], [^;]* INTO @claimed FROM /);
      expect(text).toMatch(/; SELECT \[Id\], [^;]* FROM @claimed;$/);
    });

    it('no statement of the store outputs rows without INTO', async () => {
      // Its scenarios of unreadable claimed rows log them, as they should.
      jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      const { statements } = await recordStoreStatements();
      jest.restoreAllMocks();
      for (const { sql: text } of statements) {
        for (const output of oneLine(text)
          .split(/\bOUTPUT\b/)
          .slice(1))
          expect(output).toMatch(/^[^;]* INTO @\w+ (FROM|WHERE|;)/);
      }
    });

    it("seeks each job name's due rows in dequeue order, in the dequeue index, with UPDLOCK, READPAST, ROWLOCK and READCOMMITTEDLOCK", async () => {
      const text = await claimSql();
      expect(text).toContain(
        "FROM OPENJSON(@jobNames) WITH ([name] nvarchar(128) '$') AS [names] CROSS APPLY ( SELECT TOP (@limit) [Id], [Priority], [TryCount], [NextTryTime] " +
          'FROM [AbpBackgroundJobs] WITH (INDEX([IX_AbpBackgroundJobs_Dequeue]), UPDLOCK, READPAST, ROWLOCK, READCOMMITTEDLOCK) ' +
          'WHERE [ApplicationName] = @applicationName AND [CompletionTime] IS NULL AND [IsAbandoned] = 0 AND [JobName] = [names].[name] ' +
          'AND [NextTryTime] <= @now AND CAST([JobName] AS varbinary(256)) = CAST([names].[name] AS varbinary(256)) ' +
          'ORDER BY [Priority] DESC, [TryCount], [NextTryTime]) AS [next]',
      );
      // Then the first @limit of those, in the same order; the UPDATE reaches each by its key.
      expect(text).toContain('SELECT TOP (@limit) [next].[Id] FROM OPENJSON(@jobNames)');
      expect(text).toContain('ORDER BY [next].[Priority] DESC, [next].[TryCount], [next].[NextTryTime]) AS [picked]');
      expect(text).toContain(
        'INNER JOIN [AbpBackgroundJobs] AS [job] WITH (ROWLOCK, FORCESEEK) ON [job].[Id] = [picked].[Id]',
      );
    });

    it('keeps names x @limit read locks within 2,000 and @limit within 1,000: far from lock escalation at 5,000', async () => {
      expect([1, 2, 3, 10, 100, 2000].map((names) => claimLimit(5000, names))).toEqual([1000, 1000, 666, 200, 20, 1]);
      expect(claimLimit(10, 3)).toBe(10);
      for (let names = 1; names <= MAX_CLAIM_READ_LOCKS; names++) {
        const limit = claimLimit(5000, names);
        expect(limit * names <= MAX_CLAIM_READ_LOCKS && limit <= MAX_CLAIM_ROWS && limit >= 1).toBe(true);
      }
      // The dequeue index: the keys read, and the new keys of the rows the UPDATE moves; any other index: old and new keys.
      expect(MAX_CLAIM_READ_LOCKS + MAX_CLAIM_ROWS).toBeLessThan(5000);
      expect(2 * MAX_CLAIM_ROWS).toBeLessThan(5000);
      await store.claim({ ...request, limit: 5000, jobNames: ['A', 'B', 'C'] });
      expect(sql.calls[0].params[0]).toEqual({ name: 'limit', type: 'int', value: 666 });
    });

    it('leases the rows: one more try, the lease token as stamp, due again when the lease ends', async () => {
      const text = await claimSql();
      expect(text).toContain(
        'SET [TryCount] = CASE WHEN [job].[TryCount] < 32767 THEN [job].[TryCount] + 1 ELSE [job].[TryCount] END, ' +
          '[LastTryTime] = @now, [NextTryTime] = @leaseUntil, [ConcurrencyStamp] = @leaseToken',
      );
      // A row whose stamp is still a lease was held by a claim that never finished it.
      expect(text).toContain(
        "CASE WHEN deleted.[ConcurrencyStamp] LIKE N'lease:%' THEN CAST(1 AS bit) ELSE CAST(0 AS bit) END, deleted.[NextTryTime] INTO @claimed",
      );
    });

    it('sends nothing for no job names or a zero limit', async () => {
      expect(await store.claim({ ...request, jobNames: [] })).toEqual([]);
      expect(await store.claim({ ...request, limit: 0 })).toEqual([]);
      expect(sql.calls).toEqual([]);
    });

    it('abandons a row it cannot read, fenced by Id and lease token, and returns the others', async () => {
      const unreadable = claimedRow({
        Id: ID2.toUpperCase(),
        CreationTime: new Date(NaN),
        ExtraProperties: '{"TenantId":"t1"}',
      });
      sql.reply({ rows: [unreadable, claimedRow()], rowsAffected: 2 }, { rowsAffected: 1 });
      const claimed = await store.claim(request);
      expect(claimed.map((j) => j.id)).toEqual([ID1]);
      const abandon = oneLine(sql.calls[1].sql);
      expect(abandon).toContain('SET [IsAbandoned] = CAST(1 AS bit)');
      expect(abandon).toContain('ON [job].[Id] = [unreadable].[Id] AND [job].[ConcurrencyStamp] = @leaseToken;');
      expect(sql.calls[1].params.map((p) => [p.name, p.type])).toEqual([
        ['unreadable', 'nvarchar(max)'],
        ['leaseToken', 'nvarchar(40)'],
      ]);
      expect(sql.calls[1].params[1].value).toBe(LEASE);
      const [written] = JSON.parse(sql.calls[1].params[0].value as string) as Array<Record<string, string>>;
      expect(written.id).toBe(ID2.toUpperCase());
      expect(written.newStamp).toMatch(/^[0-9a-f]{32}$/);
      expect(JSON.parse(written.extraProperties)).toMatchObject({
        TenantId: 't1',
        LastError: 'The row cannot be read: CreationTime is not a time: an invalid date',
      });
    });

    it('releases an unreadable row when abandoning it fails, and still returns the others', async () => {
      sql.reply(
        { rows: [claimedRow({ Id: ID2.toUpperCase(), JobArgs: null }), claimedRow()] },
        new Error('write failed'),
        { rowsAffected: 1 },
      );
      expect((await store.claim(request)).map((j) => j.id)).toEqual([ID1]);
      expect(sql.calls[2].sql).toContain('UPDATE [AbpBackgroundJobs] WITH (ROWLOCK)');
      expect(sql.calls[2].params[0]).toEqual({
        name: 'ids',
        type: 'nvarchar(max)',
        value: JSON.stringify([ID2.toUpperCase()]),
      });
    });

    it('runs again when chosen as a deadlock victim (1205), but not after other errors', async () => {
      sql.reply(Object.assign(new Error('deadlock'), { number: 1205 }), { rows: [claimedRow()] });
      expect(await store.claim(request)).toHaveLength(1);
      expect(sql.calls).toHaveLength(2);

      const invalid = Object.assign(new Error('Invalid column name'), { number: 207 });
      sql.reply(invalid);
      await expect(store.claim(request)).rejects.toBe(invalid);
      expect(sql.calls).toHaveLength(3);
    });
  });

  describe('writes fenced by the lease token', () => {
    it('complete deletes by Id and token', async () => {
      sql.reply({ rowsAffected: 2 });
      expect(await store.complete(LEASE, [ID1, ID2])).toBe(2);
      expect(sql.calls[0].params).toEqual([
        { name: 'ids', type: 'nvarchar(max)', value: JSON.stringify([ID1, ID2]) },
        { name: 'leaseToken', type: 'nvarchar(40)', value: LEASE },
      ]);
      const text = oneLine(sql.calls[0].sql);
      expect(text).toMatch(/^DELETE FROM \[AbpBackgroundJobs\] WITH \(ROWLOCK\) WHERE /);
      expect(text).toContain(`${IDS_FROM_JSON} AND ${FENCED};`);
    });

    it('complete splits 2,500 ids into statements of at most 1,000 and adds up the counts', async () => {
      sql.reply({ rowsAffected: 1000 }, { rowsAffected: 999 }, { rowsAffected: 500 });
      expect(await store.complete(LEASE, ids(2500))).toBe(2499);
      expect(sql.calls.map((c) => jsonLength(c.params[0]))).toEqual([1000, 1000, 500]);
    });

    it("fail joins the failures, read from JSON, on Id and each failure's token", async () => {
      sql.reply({ rowsAffected: 1 });
      const retry = {
        id: ID1,
        leaseToken: LEASE,
        nextTryTime: new Date('2030-06-15T12:02:00.250Z'),
        extraProperties: '{"LastError":"boom"}',
        newStamp: 'n1',
      };
      const abandon = { id: ID2, leaseToken: LEASE, nextTryTime: null, extraProperties: '{}', newStamp: 'n2' };
      expect(await store.fail([retry, abandon])).toBe(1);
      expect(sql.calls[0].params).toEqual([
        {
          name: 'failures',
          type: 'nvarchar(max)',
          value: JSON.stringify([
            {
              id: ID1,
              leaseToken: LEASE,
              nextTryTime: '2030-06-15 12:02:00.250',
              extraProperties: '{"LastError":"boom"}',
              newStamp: 'n1',
            },
            { id: ID2, leaseToken: LEASE, nextTryTime: null, extraProperties: '{}', newStamp: 'n2' },
          ]),
        },
      ]);
      const text = oneLine(sql.calls[0].sql);
      // No next try abandons the row.
      expect(text).toContain(
        '[IsAbandoned] = CASE WHEN [failed].[NextTryTime] IS NULL THEN CAST(1 AS bit) ELSE CAST(0 AS bit) END',
      );
      expect(text).toContain('ON [job].[Id] = [failed].[Id] AND [job].[ConcurrencyStamp] = [failed].[LeaseToken];');
    });

    it('extendLeases moves NextTryTime by Id and token', async () => {
      sql.reply({ rowsAffected: 1 });
      const until = new Date('2030-06-15T12:05:00Z');
      expect(await store.extendLeases(LEASE, [ID1], until)).toBe(1);
      expect(sql.calls[0].params).toEqual([
        { name: 'ids', type: 'nvarchar(max)', value: `["${ID1}"]` },
        { name: 'leaseToken', type: 'nvarchar(40)', value: LEASE },
        { name: 'until', type: 'datetime2', value: until },
      ]);
      expect(oneLine(sql.calls[0].sql)).toContain(`SET [NextTryTime] = @until WHERE ${IDS_FROM_JSON} AND ${FENCED};`);
    });

    it('release makes rows due under a new stamp, taking the try back only with undoTry', async () => {
      sql.reply({ rowsAffected: 1 });
      expect(await store.release({ leaseToken: LEASE, ids: [ID1], now: T0, newStamp: 'fresh', undoTry: true })).toBe(1);
      expect(sql.calls[0].params).toEqual([
        { name: 'ids', type: 'nvarchar(max)', value: `["${ID1}"]` },
        { name: 'leaseToken', type: 'nvarchar(40)', value: LEASE },
        { name: 'now', type: 'datetime2', value: T0 },
        { name: 'newStamp', type: 'nvarchar(40)', value: 'fresh' },
        { name: 'undoTry', type: 'bit', value: true },
      ]);
      const text = oneLine(sql.calls[0].sql);
      expect(text).toContain('SET [NextTryTime] = @now, [ConcurrencyStamp] = @newStamp,');
      expect(text).toContain(
        '[TryCount] = CASE WHEN @undoTry = 1 AND [TryCount] > 0 THEN [TryCount] - 1 ELSE [TryCount] END',
      );
      expect(text).toContain(`WHERE ${IDS_FROM_JSON} AND ${FENCED};`);
    });
  });

  describe('reads', () => {
    it('find reads one row by uniqueidentifier and gives its Id in lower case', async () => {
      sql.reply({ rows: [serverRow()] }, { rows: [] });
      expect((await store.find(ID1.toUpperCase()))?.id).toBe(ID1);
      expect(await store.find(ID2)).toBeUndefined();
      expect(sql.calls[0].params).toEqual([{ name: 'id', type: 'uniqueidentifier', value: ID1.toUpperCase() }]);
      expect(sql.calls[0].sql).toContain('WHERE [Id] = @id');
    });

    it('find gives nothing for an id that is no Guid, and sends nothing the driver would refuse', async () => {
      for (const id of ['', 'not-a-guid', `{${ID1}}`, `${ID1}0`, ID1.replace(/-/g, '')])
        expect(await store.find(id)).toBeUndefined();
      expect(sql.calls).toEqual([]);
    });

    it('count reads all rows, NULL-application rows, or one application', async () => {
      sql.reply({ rows: [{ n: 7 }] }, { rows: [{ n: 3 }] }, { rows: [{ n: 2 }] });
      expect([await store.count(), await store.count(null), await store.count('app')]).toEqual([7, 3, 2]);
      expect(sql.calls.map((c) => c.params)).toEqual([
        [],
        [],
        [{ name: 'applicationName', type: 'nvarchar(96)', value: 'app' }],
      ]);
      expect(sql.calls[0].sql).not.toContain('WHERE');
      expect(sql.calls[1].sql).toContain('WHERE [ApplicationName] IS NULL');
      expect(sql.calls[2].sql).toContain('WHERE [ApplicationName] = @applicationName');
    });

    it('countDueByJobName groups due rows by the bytes of JobName, so trailing spaces and case stay apart', async () => {
      sql.reply(
        {
          rows: [
            { jobName: 'MyReportJobArgs ', n: 2 },
            { jobName: 'Old', n: 1 },
          ],
        },
        { rows: [] },
      );
      expect(await store.countDueByJobName('app', T0)).toEqual([
        { jobName: 'MyReportJobArgs ', count: 2 },
        { jobName: 'Old', count: 1 },
      ]);
      expect(await store.countDueByJobName(null, T0)).toEqual([]);
      const params = [
        { name: 'limit', type: 'int', value: MAX_DUE_JOB_NAMES },
        { name: 'now', type: 'datetime2', value: T0 },
      ];
      expect(sql.calls.map((c) => c.params)).toEqual([
        [...params, { name: 'applicationName', type: 'nvarchar(96)', value: 'app' }],
        params,
      ]);
      const [forApp, forNull] = sql.calls.map((c) => oneLine(c.sql));
      expect(forApp).toContain(
        'WHERE [ApplicationName] = @applicationName AND [CompletionTime] IS NULL AND [IsAbandoned] = 0 AND [NextTryTime] <= @now',
      );
      expect(forNull).toContain('WHERE [ApplicationName] IS NULL AND');
      expect(forApp).toContain('GROUP BY CAST([JobName] AS varbinary(256))');
    });

    it('oldestDueTime reads the first due NextTryTime in the order of ABP index, with TOP (1)', async () => {
      const oldest = new Date(T0.getTime() - 90_000);
      sql.reply({ rows: [{ oldest }] }, { rows: [] });
      expect(await store.oldestDueTime('app', T0)).toEqual(oldest);
      expect(await store.oldestDueTime(null, T0)).toBeNull();
      const now = { name: 'now', type: 'datetime2', value: T0 };
      expect(sql.calls.map((c) => c.params)).toEqual([
        [now, { name: 'applicationName', type: 'nvarchar(96)', value: 'app' }],
        [now],
      ]);
      // One seek of ABP's index: the live, due rows of one application, the first in NextTryTime order.
      expect(oneLine(sql.calls[0].sql)).toContain('SELECT TOP (1) [NextTryTime] AS [oldest]');
      expect(oneLine(sql.calls[0].sql)).toContain(
        'WHERE [ApplicationName] = @applicationName AND [CompletionTime] IS NULL AND [IsAbandoned] = 0 AND [NextTryTime] <= @now ORDER BY [NextTryTime]',
      );
      expect(oneLine(sql.calls[1].sql)).toContain('WHERE [ApplicationName] IS NULL AND');
    });

    it('ping sends one constant query that reads no table, and passes a failure on', async () => {
      sql.reply({ rows: [{ '': 1 }] }, Object.assign(new Error('Failed to connect'), { code: 'ESOCKET' }));
      await expect(store.ping()).resolves.toBeUndefined();
      await expect(store.ping()).rejects.toMatchObject({ code: 'ESOCKET' });
      expect(sql.calls.map((c) => [c.sql, c.params])).toEqual([
        ['SELECT 1;', []],
        ['SELECT 1;', []],
      ]);
    });
  });

  describe('StoreSuccessfulJobs', () => {
    it('completeAndKeep joins the kept rows, read from JSON, on Id and token; a null bag keeps ExtraProperties', async () => {
      sql.reply({ rowsAffected: 2 });
      const kept = [
        {
          id: ID1,
          leaseToken: LEASE,
          completionTime: new Date('2030-06-15T12:00:01.250Z'),
          extraProperties: '{"Result":1}',
          newStamp: 'n1',
        },
        { id: ID2, leaseToken: LEASE, completionTime: T0, extraProperties: null, newStamp: 'n2' },
      ];
      expect(await store.completeAndKeep(kept)).toBe(2);
      expect(sql.calls).toHaveLength(1);
      const [{ sql: text, params, inTransaction }] = sql.calls;
      expect(inTransaction).toBe(false);
      expect(params).toEqual([
        {
          name: 'completions',
          type: 'nvarchar(max)',
          value: JSON.stringify([
            {
              id: ID1,
              leaseToken: LEASE,
              completionTime: '2030-06-15 12:00:01.250',
              extraProperties: '{"Result":1}',
              newStamp: 'n1',
            },
            {
              id: ID2,
              leaseToken: LEASE,
              completionTime: '2030-06-15 12:00:00.000',
              extraProperties: null,
              newStamp: 'n2',
            },
          ]),
        },
      ]);
      // Only rows still held by the lease are kept; a null bag leaves ExtraProperties as it was.
      expect(oneLine(text)).toContain('ON [job].[Id] = [done].[Id] AND [job].[ConcurrencyStamp] = [done].[LeaseToken]');
      expect(oneLine(text)).toContain('COALESCE([done].[ExtraProperties], [job].[ExtraProperties])');
      expect(oneLine(text)).toContain('WITH (ROWLOCK)');
    });

    it(`deleteCompletedBefore deletes at most ${MAX_CLAIM_ROWS} kept rows per statement, skipping locked rows, per application`, async () => {
      sql.reply({ rowsAffected: 7 }, { rowsAffected: 3 });
      const before = new Date('2030-06-08T12:00:00Z');
      expect(await store.deleteCompletedBefore('app', before, 5000)).toBe(7);
      expect(await store.deleteCompletedBefore(null, before, 10)).toBe(3);
      const deleteSql = (appClause: string) =>
        `DELETE TOP (@limit) FROM [AbpBackgroundJobs] WITH (ROWLOCK, READPAST, READCOMMITTEDLOCK) WHERE ${appClause} AND [CompletionTime] < @before;`;
      expect(sql.calls).toEqual([
        {
          sql: deleteSql('[ApplicationName] = @applicationName'),
          params: [
            { name: 'limit', type: 'int', value: MAX_CLAIM_ROWS },
            { name: 'before', type: 'datetime2', value: before },
            { name: 'applicationName', type: 'nvarchar(96)', value: 'app' },
          ],
          inTransaction: false,
        },
        {
          sql: deleteSql('[ApplicationName] IS NULL'),
          params: [
            { name: 'limit', type: 'int', value: 10 },
            { name: 'before', type: 'datetime2', value: before },
          ],
          inTransaction: false,
        },
      ]);
    });

    it('tryWithLock takes a transaction-owned applock without waiting, runs the work inside, and commits', async () => {
      sql.reply({ rows: [{ result: 0 }] });
      const work = jest.fn(async () => 'done');
      expect(await store.tryWithLock('AbpBackgroundJobCleanup', work)).toEqual({ value: 'done' });
      expect(work).toHaveBeenCalledTimes(1);
      expect(sql.calls).toHaveLength(1);
      const [{ sql: text, params, inTransaction }] = sql.calls;
      expect(inTransaction).toBe(true);
      expect(params).toEqual([{ name: 'name', type: 'nvarchar(255)', value: 'AbpBackgroundJobCleanup' }]);
      expect(oneLine(text)).toContain(
        "sp_getapplock @Resource = @name, @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = 0",
      );
      expect(sql.transactions).toEqual(['committed']);
    });

    it('tryWithLock runs nothing when the lock is held elsewhere (sp_getapplock -1), and rolls back when the work throws', async () => {
      sql.reply({ rows: [{ result: -1 }] }, { rows: [{ result: 1 }] });
      const work = jest.fn(async () => 'never');
      expect(await store.tryWithLock('L', work)).toBeUndefined();
      expect(work).not.toHaveBeenCalled();
      await expect(
        store.tryWithLock('L', async () => {
          throw new Error('work failed');
        }),
      ).rejects.toThrow('work failed');
      expect(sql.transactions).toEqual(['committed', 'rolled back']);
    });

    it("hasCompletionTimeColumn says whether the table the store found has ABP 10.6's column, read from the catalog once", async () => {
      const other = new RecordingSqlRunner().reply({ rows: [{ name: 'Id' }, { name: 'JobName' }] });
      const adopted = new MssqlBackgroundJobStore(other);
      expect([await adopted.hasCompletionTimeColumn(), await adopted.hasCompletionTimeColumn()]).toEqual([
        false,
        false,
      ]);
      expect(other.calls.map((c) => oneLine(c.sql))).toEqual([
        "SELECT [name] FROM sys.columns WHERE [object_id] = OBJECT_ID(N'[AbpBackgroundJobs]', N'U');",
      ]);
      expect(await store.hasCompletionTimeColumn()).toBe(true);
    });
  });

  describe('isUnavailable', () => {
    const error = (fields: Record<string, unknown>) => Object.assign(new Error('x'), fields);

    it.each([
      ['a refused or broken socket (ConnectionError ESOCKET)', error({ code: 'ESOCKET' })],
      ['a login timeout (ETIMEOUT)', error({ code: 'ETIMEOUT' })],
      ['a connection closed under a request (ECONNCLOSED)', error({ code: 'ECONNCLOSED' })],
      ['a closed pool (ENOTOPEN)', error({ code: 'ENOTOPEN' })],
      [
        "tedious's cause under mssql's wrapper",
        error({ code: 'EREQUEST', originalError: error({ code: 'ECONNRESET' }) }),
      ],
      ['a database that is not available (4060)', error({ code: 'EREQUEST', number: 4060 })],
      ['Azure SQL busy (40501)', error({ code: 'EREQUEST', number: 40501 })],
    ])('is true for %s', (_what, e) => expect(store.isUnavailable(e)).toBe(true));

    it.each([
      ['a duplicate key (2627)', error({ code: 'EREQUEST', number: 2627 })],
      ['a deadlock victim (1205), retried instead', error({ code: 'EREQUEST', number: 1205 })],
      ['a failed login (ELOGIN)', error({ code: 'ELOGIN' })],
      ['anything else', new Error('boom')],
      ['undefined', undefined],
    ])('is false for %s', (_what, e) => expect(store.isUnavailable(e)).toBe(false));
  });
});

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { MssqlBackgroundJobStore } from '@app/background-jobs/store/dialects/mssql.dialect';
import { abpMigrations } from '../support/abp-migrations';
import { legacyTables } from '../support/legacy-tables';
import { publicMethodsOf } from '../support/mssql/store-methods';
import { RecordingSqlRunner } from '../support/mssql/recording-sql-runner';
import { recordStoreStatements, StoreRecording, SUB_STORES } from '../support/mssql/store-statements';
import { ParsedFile, parseTsql, writeStatementFiles } from '../support/mssql/tsql-parse';

/**
 * No SQL Server runs on these machines, so every statement the SQL Server store sends is parsed by
 * Microsoft's own T-SQL parser (tools/tsql-parse, needs mono) under the SQL Server 2016 grammar:
 * as sent, after a DECLARE of its parameters as the driver declares them, and the string of each
 * EXEC(N'...') as a batch of its own, on ABP 10.6's table and on the older ones the store adopts;
 * and ABP's own DDL for the table. That proves the syntax, not names, types or plans; the store
 * contract runs the same statements on a real server when MSSQL_CONNECTION_STRING is set.
 * MSSQL_STATEMENTS_DIR=<dir> keeps the files there.
 */
/** The store's own class; its parts' classes are in SUB_STORES. */
const STORE_SOURCE = 'libs/background-jobs/src/store/dialects/mssql.dialect.ts';

describe("SQL Server statements, parsed by Microsoft's T-SQL parser", () => {
  const keep = process.env.MSSQL_STATEMENTS_DIR;
  let dir: string;
  let recording: StoreRecording;
  let parsed: ParsedFile[];

  beforeAll(async () => {
    dir = keep ?? mkdtempSync(join(tmpdir(), 'mssql-statements-'));
    mkdirSync(dir, { recursive: true });
    // The scenarios of unreadable claimed rows log them as errors, as they should.
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    recording = await recordStoreStatements();
    logged.mockRestore();
    parsed = parseTsql(writeStatementFiles(recording.statements, dir));
  });

  afterAll(() => {
    if (!keep && dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs every public method of the store and of each of its parts, so a new one cannot go unparsed', () => {
    const store = new MssqlBackgroundJobStore(new RecordingSqlRunner());
    const classes = [
      { prefix: '', source: STORE_SOURCE, className: 'MssqlBackgroundJobStore', instance: store as object },
      ...Object.entries(SUB_STORES).map(([part, { source, className }]) => ({
        prefix: `${part}.`,
        source,
        className,
        instance: Reflect.get(store, part) as object,
      })),
    ];
    const methods = classes.flatMap(({ prefix, source, className, instance }) => {
      // The part the store holds is of the class whose source is read.
      expect([prefix, instance.constructor.name]).toEqual([prefix, className]);
      const declared = publicMethodsOf(source, className);
      for (const method of declared)
        expect([className, typeof Reflect.get(instance, method)]).toEqual([className, 'function']);
      return declared.map((method) => `${prefix}${method}`);
    });
    expect(methods).toEqual(
      expect.arrayContaining([
        'claim',
        'withinTransaction',
        'admin.list',
        'heartbeats.beat',
        'uniqueJobs.insertIfAbsent',
        'schedules.enqueueRun',
        'cancellations.abandonWaiting',
      ]),
    );
    expect(recording.coveredMethods).toEqual(methods.sort());
  });

  it('parses every statement as sent, with its parameters declared, and each EXEC string on its own', () => {
    expect(parsed.length).toBeGreaterThanOrEqual(recording.statements.length);
    const failed = parsed.filter((p) => !p.ok).map((p) => `${p.file}: ${p.verdict}\n${p.sql}`);
    expect(failed).toEqual([]);
  });

  it("parses ABP's own DDL for the table: ABP 9.1's table, and what its EF Core migrations to 9.2 and 10.6 send", () => {
    const ddl = [...legacyTables.sqlserver.statements, ...abpMigrations.sqlserver.flatMap((m) => m.statements)];
    const files = new Map(
      ddl.map((sql, i) => {
        const file = join(dir, `abp-ddl-${i + 1}.sql`);
        writeFileSync(file, sql);
        return [file, sql] as const;
      }),
    );
    const failed = parseTsql(files)
      .filter((p) => !p.ok)
      .map((p) => `${p.file}: ${p.verdict}\n${p.sql}`);
    expect(failed).toEqual([]);
    expect(files.size).toBe(7);
  });

  describe('with a table prefix and a schema (BackgroundJobs__DbTablePrefix=Custom, BackgroundJobs__DbSchema=jobs)', () => {
    let prefixed: StoreRecording;
    let prefixedParsed: ParsedFile[];

    beforeAll(async () => {
      const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      prefixed = await recordStoreStatements({ tablePrefix: 'Custom', schema: 'jobs' });
      logged.mockRestore();
      const prefixedDir = join(dir, 'prefixed');
      mkdirSync(prefixedDir, { recursive: true });
      prefixedParsed = parseTsql(writeStatementFiles(prefixed.statements, prefixedDir));
    });

    it('sends the same statements on [jobs].[Custom...] tables, with no default name left in any', () => {
      expect(prefixed.statements.length).toBe(recording.statements.length);
      expect(prefixed.coveredMethods).toEqual(recording.coveredMethods);
      expect(prefixed.statements.filter((s) => /AbpBackgroundJob/.test(s.sql)).map((s) => s.sql)).toEqual([]);
      const tables = new Set(prefixed.statements.flatMap((s) => s.sql.match(/\[jobs\]\.\[\w+\]/g) ?? []));
      expect([...tables].sort()).toEqual([
        '[jobs].[CustomBackgroundJobCancellations]',
        '[jobs].[CustomBackgroundJobEnqueueKeys]',
        '[jobs].[CustomBackgroundJobSchedules]',
        '[jobs].[CustomBackgroundJobWorkers]',
        '[jobs].[CustomBackgroundJobs]',
      ]);
      // Every reference to a table names the schema: none is left to the login's default schema.
      const bare = prefixed.statements.flatMap((s) => s.sql.match(/(?<!\]\.)\[Custom\w+\](?!\.)/g) ?? []);
      expect(bare).toEqual([]);
    });

    it('parses every one of them', () => {
      const failed = prefixedParsed.filter((p) => !p.ok).map((p) => `${p.file}: ${p.verdict}\n${p.sql}`);
      expect(failed).toEqual([]);
      expect(prefixedParsed.length).toBe(parsed.length);
    });
  });

  it("is a parser that refuses what SQL Server refuses (UPDATE TOP with ORDER BY, and OPENJSON under 2014's grammar)", () => {
    const file = join(dir, 'refused.sql');
    const sql = 'UPDATE TOP (1) [AbpBackgroundJobs] SET [TryCount] = 1 ORDER BY [Priority];';
    writeFileSync(file, sql);
    const [refused] = parseTsql(new Map([[file, sql]]));
    expect(refused.ok).toBe(false);
    expect(refused.verdict).toMatch(/^ERROR 46010 /);
    const claim = recording.statements.find((s) => s.method === 'claim')!;
    writeFileSync(file, claim.sql);
    expect(parseTsql(new Map([[file, claim.sql]]), 120)[0].ok).toBe(false);
    rmSync(file);
  });
});

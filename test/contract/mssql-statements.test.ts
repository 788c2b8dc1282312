import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { MssqlBackgroundJobStore } from '@app/background-jobs/store/dialects/mssql.dialect';
import { MssqlJobAdminStore } from '@app/background-jobs/store/dialects/mssql.admin';
import { MssqlWorkerHeartbeats } from '@app/background-jobs/store/dialects/mssql.heartbeats';
import { abpMigrations } from '../support/abp-migrations';
import { legacyTables } from '../support/legacy-tables';
import { publicMethodsOf } from '../support/mssql/store-methods';
import { recordStoreStatements, StoreRecording } from '../support/mssql/store-statements';
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
const DIALECTS = 'libs/background-jobs/src/store/dialects';
/** The classes whose public methods send statements: the store's own under their names, the sub-stores' under `<property>.`. */
const STATEMENT_CLASSES = [
  {
    prefix: '',
    source: `${DIALECTS}/mssql.dialect.ts`,
    name: 'MssqlBackgroundJobStore',
    type: MssqlBackgroundJobStore,
  },
  { prefix: 'admin.', source: `${DIALECTS}/mssql.admin.ts`, name: 'MssqlJobAdminStore', type: MssqlJobAdminStore },
  {
    prefix: 'heartbeats.',
    source: `${DIALECTS}/mssql.heartbeats.ts`,
    name: 'MssqlWorkerHeartbeats',
    type: MssqlWorkerHeartbeats,
  },
];

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

  it('runs every public method of the store and of its admin and heartbeat stores, so a new one cannot go unparsed', () => {
    const methods = STATEMENT_CLASSES.flatMap(({ prefix, source, name, type }) => {
      const declared = publicMethodsOf(source, name);
      for (const method of declared)
        expect([name, typeof Reflect.get(type.prototype, method)]).toEqual([name, 'function']);
      return declared.map((method) => `${prefix}${method}`);
    });
    expect(methods).toEqual(expect.arrayContaining(['claim', 'admin.list', 'heartbeats.beat']));
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

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MSSQL_ADMIN_MIGRATION, MssqlJobAdminStore } from './mssql.admin';
import { MssqlWorkerHeartbeats } from './mssql.heartbeats';
import { SqlParam, SqlResult, SqlRunner } from './mssql-runner';
import { JOB_STATES } from '../../admin/background-jobs-admin.types';

/**
 * No SQL Server runs here: these tests pin what the management service's statements carry on SQL
 * Server (parameters, their types, the lease test, the filtered indexes they read) and turn rows
 * as tedious returns them into results. With TSQL_DUMP_DIR set, every statement sent is also
 * written there, one file each with a DECLARE of its parameters, for Microsoft's parser:
 *   TSQL_DUMP_DIR=/tmp/tsql npx jest --selectProjects unit -- mssql.admin.spec.ts
 *   ../shared/tools/tsql-parse/tsql-parse --grammar 130 /tmp/tsql/*.sql
 */
class RecordingSqlRunner implements SqlRunner {
  readonly calls: Array<{ sql: string; params: SqlParam[] }> = [];
  constructor(private readonly reply: (sql: string) => Partial<SqlResult> = () => ({})) {}

  async query(sql: string, params: SqlParam[] = []): Promise<SqlResult> {
    this.calls.push({ sql, params });
    dump(sql, params);
    return { rows: [], rowsAffected: 0, ...this.reply(sql) };
  }

  transaction<T>(work: (runner: SqlRunner) => Promise<T>): Promise<T> {
    return work(this);
  }
}

let dumped = 0;
function dump(sql: string, params: SqlParam[]): void {
  const dir = process.env.TSQL_DUMP_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const declare = params.length ? `DECLARE ${params.map((p) => `@${p.name} ${p.type}`).join(', ')};\n` : '';
  writeFileSync(join(dir, `admin-${String(++dumped).padStart(3, '0')}.sql`), `${declare}${sql}\n`);
}

const oneLine = (sql: string) => sql.replace(/\s+/g, ' ').trim();
const NOW = new Date('2030-06-15T12:00:00.000Z');
const ID = '3f2c9a4e-8d1b-4c7e-9a55-0b6e1d2f4a11';

describe('MssqlJobAdminStore: the statements it sends', () => {
  it('migration: four filtered indexes that split the table, and the heartbeat table', () => {
    const text = oneLine(MSSQL_ADMIN_MIGRATION);
    for (const [name, filter] of [
      ['New', '[CompletionTime] IS NULL AND [IsAbandoned] = 0 AND [TryCount] = 0'],
      ['Tried', '[CompletionTime] IS NULL AND [IsAbandoned] = 0 AND [TryCount] > 0'],
      ['Abandoned', '[CompletionTime] IS NULL AND [IsAbandoned] = 1'],
      ['Completed', '[CompletionTime] IS NOT NULL'],
    ]) {
      const statement = text.split('IF ').find((part) => part.includes(`CREATE INDEX [IX_AbpBackgroundJobs_${name}]`));
      expect([name, statement]).toEqual([name, expect.stringContaining(`ON [AbpBackgroundJobs] (`)]);
      expect([name, statement]).toEqual([name, expect.stringContaining(`WHERE ${filter}');`)]);
    }
    expect(text).toContain('CONSTRAINT [PK_AbpBackgroundJobWorkers] PRIMARY KEY ([Id])');
    dump(MSSQL_ADMIN_MIGRATION, []);
    for (const [, inner] of MSSQL_ADMIN_MIGRATION.matchAll(/EXEC\(N'((?:[^']|'')*)'\)/g))
      dump(inner.replace(/''/g, "'"), []);
  });

  it.each(JOB_STATES)('list of %s: the state through its index, a cursor as text, at most @limit', async (state) => {
    const sql = new RecordingSqlRunner();
    await new MssqlJobAdminStore(sql).list({
      state,
      now: NOW,
      limit: 51,
      jobName: 'Job',
      applicationName: 'app',
      after: { time: '2030-06-15 12:00:00.1234567', id: ID.toUpperCase() },
    });
    const [{ sql: text, params }] = sql.calls;
    expect(params).toEqual([
      { name: 'now', type: 'datetime2', value: NOW },
      { name: 'limit', type: 'int', value: 51 },
      { name: 'jobName', type: 'nvarchar(128)', value: 'Job' },
      { name: 'applicationName', type: 'nvarchar(96)', value: 'app' },
      { name: 'afterTime', type: 'nvarchar(27)', value: '2030-06-15 12:00:00.1234567' },
      { name: 'afterId', type: 'uniqueidentifier', value: ID.toUpperCase() },
    ]);
    const live = ['waiting', 'scheduled', 'retrying', 'processing'].includes(state);
    expect(oneLine(text)).toContain(
      live ? '[NextTryTime] >= CAST(@afterTime AS datetime2)' : '<= CAST(@afterTime AS datetime2)',
    );
    expect(oneLine(text)).toContain('CAST([JobName] AS varbinary(256)) = CAST(@jobName AS varbinary(256))');
    if (state === 'processing') expect(oneLine(text)).toContain("[ConcurrencyStamp] LIKE N'lease:%'");
  });

  it('actions: requeue matches the stamp it read and skips held rows; run now and delete skip held rows; all OUTPUT the ids', async () => {
    const sql = new RecordingSqlRunner(() => ({ rows: [{ Id: ID.toUpperCase() }] }));
    const admin = new MssqlJobAdminStore(sql);
    const update = { id: ID, expectedStamp: 'a'.repeat(32), extraProperties: '{}', newStamp: 'b'.repeat(32) };
    expect(await admin.requeue([update], NOW)).toEqual([ID]);
    expect(await admin.runNow([ID], NOW, 'c'.repeat(32))).toEqual([ID]);
    expect(await admin.delete([ID], NOW)).toEqual([ID]);
    const [requeue, runNow, del] = sql.calls;
    expect(requeue.params).toEqual([
      { name: 'now', type: 'datetime2', value: NOW },
      { name: 'updates', type: 'nvarchar(max)', value: JSON.stringify([update]) },
    ]);
    expect(oneLine(requeue.sql)).toContain('[job].[ConcurrencyStamp] = [requeued].[ExpectedStamp]');
    for (const call of [requeue, runNow, del])
      expect(oneLine(call.sql)).toMatch(
        /NOT \(\[(job\]\.\[)?ConcurrencyStamp\] LIKE N'lease:%' AND \[(job\]\.\[)?NextTryTime\] > @now\)/,
      );
    expect(runNow.params).toEqual([
      { name: 'ids', type: 'nvarchar(max)', value: JSON.stringify([ID]) },
      { name: 'now', type: 'datetime2', value: NOW },
      { name: 'newStamp', type: 'nvarchar(40)', value: 'c'.repeat(32) },
    ]);
    expect(oneLine(del.sql)).toMatch(/^DELETE FROM \[AbpBackgroundJobs\] WITH \(ROWLOCK\) OUTPUT deleted\.\[Id\]/);
  });

  it('counts: exact below the bound; a big table sampled with a literal percentage, its small states counted exactly', async () => {
    const small = new RecordingSqlRunner((text) =>
      text.includes('sys.partitions')
        ? { rows: [{ n: 10 }] }
        : text.includes('TOP (@limit) 1')
          ? { rows: [{ n: 10 }] }
          : {},
    );
    await new MssqlJobAdminStore(small).countStates(NOW, 100);
    expect(small.calls.map((c) => c.params.map((p) => p.name))).toEqual([[], ['limit'], ['now']]);

    const big = new RecordingSqlRunner((text) =>
      text.includes('sys.partitions')
        ? { rows: [{ n: 3_000_000 }] }
        : text.includes('TABLESAMPLE')
          ? { rows: [{ jobName: 'A', state: 'waiting', n: 2000 }] }
          : { rows: [{ jobName: 'A', n: 2 }] },
    );
    const counts = await new MssqlJobAdminStore(big).countStates(NOW, 100_000);
    expect(big.calls[1].sql).toContain('TABLESAMPLE SYSTEM (1.000000 PERCENT)');
    expect(counts).toContainEqual({ jobName: 'A', state: 'waiting', count: 200_000, estimated: true });
    expect(counts).toContainEqual({ jobName: 'A', state: 'abandoned', count: 2, estimated: false });
    // Processing reads both live indexes: two bounded counts of 2.
    expect(counts).toContainEqual({ jobName: 'A', state: 'processing', count: 4, estimated: false });
  });

  it('read and history', async () => {
    const sql = new RecordingSqlRunner((text) =>
      text.includes('[minute]') ? { rows: [{ minute: '2030-06-15 11:58', succeeded: 2, failed: 1 }] } : {},
    );
    const admin = new MssqlJobAdminStore(sql);
    await admin.read([ID]);
    expect(await admin.history(new Date(NOW.getTime() - 3_600_000), NOW)).toEqual([
      { minute: new Date('2030-06-15T11:58:00Z'), succeeded: 2, failed: 1 },
    ]);
    expect(sql.calls[0].params).toEqual([{ name: 'ids', type: 'nvarchar(max)', value: JSON.stringify([ID]) }]);
  });

  it('heartbeats: an update, else an insert, of the worker row; prune, remove and the live rows', async () => {
    const sql = new RecordingSqlRunner();
    const heartbeats = new MssqlWorkerHeartbeats(sql);
    await heartbeats.beat({
      id: ID,
      host: 'h',
      pid: 1,
      applicationName: null,
      jobNames: ['A'],
      maxParallel: 2,
      running: 1,
      startedAt: NOW,
      lastHeartbeat: NOW,
    });
    await heartbeats.prune(NOW);
    await heartbeats.remove(ID);
    await heartbeats.live(NOW);
    expect(oneLine(sql.calls[0].sql)).toMatch(/^UPDATE .* WHERE \[Id\] = @id; IF @@ROWCOUNT = 0 INSERT INTO/);
    expect(sql.calls.map((c) => c.params.map((p) => `${p.name} ${p.type}`))).toEqual([
      [
        'id uniqueidentifier',
        'host nvarchar(256)',
        'pid int',
        'applicationName nvarchar(96)',
        'jobNames nvarchar(max)',
        'maxParallel int',
        'running int',
        'startedAt datetime2',
        'lastHeartbeat datetime2',
      ],
      ['before datetime2'],
      ['id uniqueidentifier'],
      ['since datetime2'],
    ]);
  });
});

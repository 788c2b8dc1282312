import { MssqlJobAdminStore, mssqlStateIndexes } from './mssql.admin';
import { ABP_TABLE_SHAPE, TableShapeCache } from '../table-shape';
import { MssqlWorkerHeartbeats } from './mssql.heartbeats';
import { JOB_STATES } from '../../admin/background-jobs-admin.types';
import { oneLine, RecordingSqlRunner } from '../../../../../test/support/mssql/recording-sql-runner';

/**
 * No SQL Server runs here. What the management service's statements carry on SQL Server is pinned
 * in two ways: Microsoft's T-SQL parser checks the syntax of every one of them
 * (test/contract/mssql-statements.test.ts records them all), and these tests check each
 * parameter's name, type and value, the parts of the SQL that carry meaning (the lease test, the
 * filtered indexes, OUTPUT INTO), and how rows as tedious returns them become results.
 */
const NOW = new Date('2030-06-15T12:00:00.000Z');
const ID = '3f2c9a4e-8d1b-4c7e-9a55-0b6e1d2f4a11';
/** The lease test: a row is held while a lease stamp is on it and its lease has not ended. */
const HELD = /\(\[(job\]\.\[)?ConcurrencyStamp\] LIKE N'lease:%' AND \[(job\]\.\[)?NextTryTime\] > @now\)/;

describe('MssqlJobAdminStore: what it sends', () => {
  let sql: RecordingSqlRunner;
  let admin: MssqlJobAdminStore;
  beforeEach(() => {
    sql = new RecordingSqlRunner();
    admin = new MssqlJobAdminStore(sql, new TableShapeCache(async () => ABP_TABLE_SHAPE));
  });

  it('four filtered indexes of ours split the table by state, each row in exactly one', () => {
    const where = Object.fromEntries(mssqlStateIndexes(ABP_TABLE_SHAPE).map((i) => [i.name, i.where]));
    expect(where).toEqual({
      IX_AbpBackgroundJobs_New: '[CompletionTime] IS NULL AND [IsAbandoned] = 0 AND [TryCount] = 0',
      IX_AbpBackgroundJobs_Tried: '[CompletionTime] IS NULL AND [IsAbandoned] = 0 AND [TryCount] > 0',
      IX_AbpBackgroundJobs_Abandoned: '[CompletionTime] IS NULL AND [IsAbandoned] = 1',
      IX_AbpBackgroundJobs_Completed: '[CompletionTime] IS NOT NULL',
    });
  });

  it('on a table without CompletionTime (before ABP 10.6) none of them names it, and nothing is succeeded', async () => {
    const shape = { applicationName: false, completionTime: false };
    expect(mssqlStateIndexes(shape).map((i) => [i.name, i.where])).toEqual([
      ['IX_AbpBackgroundJobs_New', '[IsAbandoned] = 0 AND [TryCount] = 0'],
      ['IX_AbpBackgroundJobs_Tried', '[IsAbandoned] = 0 AND [TryCount] > 0'],
      ['IX_AbpBackgroundJobs_Abandoned', '[IsAbandoned] = 1'],
    ]);
    const old = new MssqlJobAdminStore(sql, new TableShapeCache(async () => shape));
    expect(await old.list({ state: 'succeeded', now: NOW, limit: 50, applicationName: 'app' })).toEqual([]);
    await old.list({ state: 'waiting', now: NOW, limit: 50, applicationName: 'app' });
    sql.reply({ rows: [{ n: 1 }] }, { rows: [{ n: 1 }] });
    await old.countStates(NOW, 100);
    await old.history(NOW, NOW);
    await old.read([ID]);
    for (const call of sql.calls) expect(call.sql).not.toMatch(/\[(ApplicationName|CompletionTime)\]/);
    // No application filter on such a table: every row is every application's.
    expect(sql.calls[0].params.map((p) => p.name)).toEqual(['now', 'limit']);
  });

  it.each(JOB_STATES)('list of %s: filters and cursor as typed parameters, names compared as bytes', async (state) => {
    await admin.list({
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
      // datetime2 keeps 100 ns, a JS Date 1 ms: the cursor's time travels as the text the server gave.
      { name: 'afterTime', type: 'nvarchar(27)', value: '2030-06-15 12:00:00.1234567' },
      { name: 'afterId', type: 'uniqueidentifier', value: ID.toUpperCase() },
    ]);
    const descending = state === 'abandoned' || state === 'succeeded';
    expect(oneLine(text)).toContain(`${descending ? '<' : '>'}= CAST(@afterTime AS datetime2)`);
    expect(oneLine(text)).toContain('CAST([JobName] AS varbinary(256)) = CAST(@jobName AS varbinary(256))');
    expect(oneLine(text)).toContain(
      'CAST([ApplicationName] AS varbinary(192)) = CAST(@applicationName AS varbinary(192))',
    );
  });

  it('list without filters sends only now and limit; rows with no application are asked for by IS NULL', async () => {
    await admin.list({ state: 'waiting', now: NOW, limit: 50 });
    await admin.list({ state: 'processing', now: NOW, limit: 50, applicationName: null });
    expect(sql.calls.map((c) => c.params.map((p) => p.name))).toEqual([
      ['now', 'limit'],
      ['now', 'limit'],
    ]);
    expect(oneLine(sql.calls[1].sql)).toContain('[ApplicationName] IS NULL');
    expect(oneLine(sql.calls[1].sql)).toContain("[ConcurrencyStamp] LIKE N'lease:%'");
  });

  it("list reads rows as tedious returns them, with each one's place for the next page", async () => {
    sql.reply({
      rows: [
        {
          Id: ID.toUpperCase(),
          ApplicationName: null,
          JobName: 'Job',
          JobArgs: 'x'.repeat(2000),
          ArgsCut: true,
          TryCount: 0,
          CreationTime: NOW,
          NextTryTime: NOW,
          LastTryTime: null,
          IsAbandoned: false,
          Priority: 15,
          CompletionTime: null,
          ExtraProperties: '{}',
          ConcurrencyStamp: 'a'.repeat(32),
          SortTime: '2030-06-15 12:00:00.0000000',
          SortId: ID.toUpperCase(),
        },
      ],
    });
    const [listed] = await admin.list({ state: 'waiting', now: NOW, limit: 50 });
    expect(listed.record.id).toBe(ID);
    expect(listed.jobArgsTruncated).toBe(true);
    expect(listed.position).toEqual({ time: '2030-06-15 12:00:00.0000000', id: ID.toUpperCase() });
  });

  it('requeue writes only rows still as the caller read them (their stamp), not held, and returns the ids it changed', async () => {
    sql.reply({ rows: [{ Id: ID.toUpperCase() }] });
    const update = { id: ID, expectedStamp: 'a'.repeat(32), extraProperties: '{}', newStamp: 'b'.repeat(32) };
    expect(await admin.requeue([update], NOW)).toEqual([ID]);
    const [{ sql: text, params }] = sql.calls;
    expect(params).toEqual([
      { name: 'now', type: 'datetime2', value: NOW },
      { name: 'updates', type: 'nvarchar(max)', value: JSON.stringify([update]) },
    ]);
    expect(oneLine(text)).toContain('[job].[ConcurrencyStamp] = [requeued].[ExpectedStamp]');
    expect(oneLine(text)).toMatch(new RegExp(`NOT ${HELD.source}`));
  });

  it('run now and delete skip held rows and return the ids they changed', async () => {
    sql.reply({ rows: [{ Id: ID.toUpperCase() }] }, { rows: [{ Id: ID.toUpperCase() }] });
    expect(await admin.runNow([ID], NOW, 'c'.repeat(32))).toEqual([ID]);
    expect(await admin.delete([ID], NOW)).toEqual([ID]);
    const [runNow, del] = sql.calls;
    expect(runNow.params).toEqual([
      { name: 'ids', type: 'nvarchar(max)', value: JSON.stringify([ID]) },
      { name: 'now', type: 'datetime2', value: NOW },
      { name: 'newStamp', type: 'nvarchar(40)', value: 'c'.repeat(32) },
    ]);
    expect(del.params).toEqual([
      { name: 'ids', type: 'nvarchar(max)', value: JSON.stringify([ID]) },
      { name: 'now', type: 'datetime2', value: NOW },
    ]);
    // Run now: only scheduled rows (new, due later).
    expect(oneLine(runNow.sql)).toContain('[TryCount] = 0 AND [NextTryTime] > @now');
    for (const call of [runNow, del]) expect(oneLine(call.sql)).toMatch(new RegExp(`NOT ${HELD.source}`));
  });

  it('the actions OUTPUT their ids INTO a table variable and select it, so a trigger on the table cannot fail them (error 334)', async () => {
    const update = { id: ID, expectedStamp: 'a'.repeat(32), extraProperties: '{}', newStamp: 'b'.repeat(32) };
    await admin.requeue([update], NOW);
    await admin.runNow([ID], NOW, 'c'.repeat(32));
    await admin.delete([ID], NOW);
    for (const { sql: text } of sql.calls) {
      const statement = oneLine(text);
      expect(statement).toMatch(/^DECLARE @done TABLE \(\[Id\] uniqueidentifier NOT NULL\);/);
      expect(statement).toMatch(/ OUTPUT (inserted|deleted)\.\[Id\] INTO @done /);
      expect(statement).toMatch(/; SELECT \[Id\] FROM @done;$/);
    }
  });

  it('counts of a small table: its size from the catalog, a bounded count, then one pass over the table', async () => {
    sql.reply({ rows: [{ n: 10 }] }, { rows: [{ n: 10 }] }, { rows: [{ jobName: 'A', state: 'waiting', n: 10 }] });
    expect(await admin.countStates(NOW, 100)).toEqual([
      { jobName: 'A', state: 'waiting', count: 10, estimated: false },
    ]);
    expect(sql.calls.map((c) => c.params)).toEqual([
      [],
      [{ name: 'limit', type: 'int', value: 101 }],
      [{ name: 'now', type: 'datetime2', value: NOW }],
    ]);
    expect(sql.calls[0].sql).toContain('sys.partitions');
  });

  it('counts of a big table: a sample with a literal percentage, its small states then counted exactly through their indexes', async () => {
    sql.reply(
      { rows: [{ n: 3_000_000 }] },
      {
        rows: [
          { jobName: 'A', state: 'waiting', n: 2000 },
          { jobName: 'A', state: 'processing', n: 1 },
        ],
      },
      // Each state but waiting is estimated small, so counted: scheduled, retrying, then processing's two indexes.
      { rows: [] },
      { rows: [] },
      { rows: [{ jobName: 'A', n: 2 }] },
      { rows: [{ jobName: 'A', n: 3 }] },
    );
    const counts = await admin.countStates(NOW, 100_000);
    // TABLESAMPLE takes a constant: 30,000 rows of 3,000,000 is 1 percent.
    expect(sql.calls[1].sql).toContain('TABLESAMPLE SYSTEM (1.000000 PERCENT)');
    expect(counts).toContainEqual({ jobName: 'A', state: 'waiting', count: 200_000, estimated: true });
    // Processing reads both live indexes (new and tried rows under a lease): two bounded counts.
    expect(counts).toContainEqual({ jobName: 'A', state: 'processing', count: 5, estimated: false });
    expect(sql.calls[2].params).toEqual([
      { name: 'now', type: 'datetime2', value: NOW },
      { name: 'limit', type: 'int', value: 10_001 },
    ]);
  });

  it('read sends the ids as JSON; history reads minutes as the server writes them', async () => {
    sql.reply({ rows: [] }, { rows: [{ minute: '2030-06-15 11:58', succeeded: 2, failed: 1 }] });
    await admin.read([ID]);
    const since = new Date(NOW.getTime() - 3_600_000);
    expect(await admin.history(since, NOW)).toEqual([
      { minute: new Date('2030-06-15T11:58:00Z'), succeeded: 2, failed: 1 },
    ]);
    expect(sql.calls.map((c) => c.params)).toEqual([
      [{ name: 'ids', type: 'nvarchar(max)', value: JSON.stringify([ID]) }],
      [
        { name: 'now', type: 'datetime2', value: NOW },
        { name: 'since', type: 'datetime2', value: since },
      ],
    ]);
    // A failed try counts only once the row is no longer held.
    expect(oneLine(sql.calls[1].sql)).toMatch(new RegExp(`NOT ${HELD.source}`));
  });
});

describe('MssqlWorkerHeartbeats: what it sends', () => {
  it('an update, else an insert, of the worker row; prune, remove and the live rows, each with typed parameters', async () => {
    const sql = new RecordingSqlRunner();
    const heartbeats = new MssqlWorkerHeartbeats(sql);
    await heartbeats.beat({
      id: ID,
      host: 'h'.repeat(300),
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
    expect(oneLine(sql.calls[0].sql)).toMatch(/ WHERE \[Id\] = @id; IF @@ROWCOUNT = 0 INSERT INTO /);
    expect(sql.calls[0].params).toEqual([
      { name: 'id', type: 'uniqueidentifier', value: ID },
      { name: 'host', type: 'nvarchar(256)', value: 'h'.repeat(256) },
      { name: 'pid', type: 'int', value: 1 },
      { name: 'applicationName', type: 'nvarchar(96)', value: null },
      { name: 'jobNames', type: 'nvarchar(max)', value: '["A"]' },
      { name: 'maxParallel', type: 'int', value: 2 },
      { name: 'running', type: 'int', value: 1 },
      { name: 'startedAt', type: 'datetime2', value: NOW },
      { name: 'lastHeartbeat', type: 'datetime2', value: NOW },
    ]);
    expect(sql.calls.slice(1).map((c) => c.params)).toEqual([
      [{ name: 'before', type: 'datetime2', value: NOW }],
      [{ name: 'id', type: 'uniqueidentifier', value: ID }],
      [{ name: 'since', type: 'datetime2', value: NOW }],
    ]);
  });
});

import { RecordingSqlRunner, oneLine } from '../../../../../test/support/mssql/recording-sql-runner';
import type { BackgroundJobRecord } from '../background-job-record';
import { ABP_TABLE_SHAPE, TableShape, TableShapeCache } from '../table-shape';
import { MssqlCancellations } from './mssql.cancellations';
import { MssqlSchedules } from './mssql.schedules';
import { MssqlUniqueJobs } from './mssql.unique-jobs';

/** What the SQL Server parts of recurring jobs, unique jobs and cancel send, and in which transaction. */
const T0 = new Date('2030-06-15T12:00:00.000Z');
const ID = '3f2c9a4e-8d1b-4c7e-9a55-0b6e1d2f4a11';

const job: BackgroundJobRecord = {
  id: ID,
  applicationName: 'app',
  jobName: 'Nightly',
  jobArgs: '{}',
  tryCount: 0,
  creationTime: T0,
  nextTryTime: T0,
  lastTryTime: null,
  isAbandoned: false,
  priority: 15,
  completionTime: null,
  extraProperties: '{"Schedule":"nightly"}',
  concurrencyStamp: '0123456789abcdef0123456789abcdef',
};

/** A store's knowledge of a table of this shape. */
const tableOf = (shape: TableShape) => new TableShapeCache(async () => shape);
const abp10_6 = tableOf(ABP_TABLE_SHAPE);

describe('SQL Server: schedules, unique jobs and cancel requests', () => {
  let sql: RecordingSqlRunner;
  beforeEach(() => (sql = new RecordingSqlRunner()));

  it("moves a schedule's cursor and writes the occurrence's job in one transaction, the job only if the cursor moved", async () => {
    const schedules = new MssqlSchedules(sql, abp10_6);
    const run = { name: 'nightly', job, occurrence: { time: T0, definitionStamp: 'stamp' } };
    sql.reply({ rowsAffected: 1 }, { rowsAffected: 1 });
    expect(await schedules.enqueueRun(run, T0)).toBe(true);
    expect(sql.calls.map((c) => c.inTransaction)).toEqual([true, true]);
    expect(oneLine(sql.calls[0].sql)).toContain(
      'AND [IsPaused] = 0 AND [DefinitionStamp] = @definitionStamp AND [LastOccurrenceTime] < @occurrence;',
    );
    expect(oneLine(sql.calls[1].sql)).toContain(
      'WHERE NOT EXISTS (SELECT 1 FROM [AbpBackgroundJobs] WITH (UPDLOCK, HOLDLOCK) WHERE [Id] = @id);',
    );
    expect(sql.transactions).toEqual(['committed']);

    sql = new RecordingSqlRunner().reply({ rowsAffected: 0 });
    expect(await new MssqlSchedules(sql, abp10_6).enqueueRun(run, T0)).toBe(false);
    expect(sql.calls).toHaveLength(1);
  });

  it('matches a schedule name code point for code point (SQL Server ignores trailing spaces in =)', async () => {
    await new MssqlSchedules(sql, abp10_6).find('nightly');
    expect(oneLine(sql.calls[0].sql)).toContain(
      'WHERE [Name] = @name AND CAST([Name] AS varbinary(256)) = CAST(@name AS varbinary(256));',
    );
    expect(sql.calls[0].params).toEqual([{ name: 'name', type: 'nvarchar(128)', value: 'nightly' }]);
  });

  it('upserts a cancel request in a transaction of its own, its key held by UPDLOCK, SERIALIZABLE', async () => {
    await new MssqlCancellations(sql, abp10_6).request({ id: ID, jobCreationTime: T0, requestedBy: 'alice' }, T0);
    expect(sql.transactions).toEqual(['committed']);
    expect(oneLine(sql.calls[0].sql)).toMatch(
      /^UPDATE \[AbpBackgroundJobCancellations\] WITH \(UPDLOCK, SERIALIZABLE\) .* IF @@ROWCOUNT = 0 INSERT INTO/,
    );
  });

  it("never retries a unique job's write by itself: in the caller's transaction a deadlock is the caller's to retry", async () => {
    sql.reply(Object.assign(new Error('deadlock'), { number: 1205 }));
    await expect(new MssqlUniqueJobs(sql, abp10_6).insertIfAbsent(job)).rejects.toThrow('deadlock');
    expect(sql.calls).toHaveLength(1);
  });

  it("names on an ABP 9.1 table only the columns it has: no ApplicationName or CompletionTime in the job's insert or tests", async () => {
    const abp9_1 = tableOf({ applicationName: false, completionTime: false });
    sql.reply({ rowsAffected: 1 }, { rowsAffected: 1 });
    await new MssqlSchedules(sql, abp9_1).enqueueRun({ name: 'nightly', job }, T0);
    const unique = new MssqlUniqueJobs(sql, abp9_1);
    await unique.insertIfAbsent(job);
    await unique.moveFinished(ID, ID);
    await unique.replaceWaiting({ id: ID, jobArgs: '{}', priority: 15, nextTryTime: T0, newStamp: 'n' }, T0);
    const cancellations = new MssqlCancellations(sql, abp9_1);
    await cancellations.abandonWaiting({ id: ID, expectedStamp: 's', extraProperties: '{}', newStamp: 'n' }, T0);
    await cancellations.deleteSettledRequests(10);
    const jobStatements = sql.calls.filter((c) => c.sql.includes('[AbpBackgroundJobs]'));
    expect(jobStatements).toHaveLength(6);
    for (const call of jobStatements) {
      expect(call.sql).not.toMatch(/ApplicationName|CompletionTime/);
      expect(call.params.map((p) => p.name)).not.toEqual(expect.arrayContaining(['applicationName']));
    }
    expect(jobStatements[0].params.map((p) => p.name)).toEqual([
      'id',
      'jobName',
      'jobArgs',
      'tryCount',
      'creationTime',
      'nextTryTime',
      'lastTryTime',
      'isAbandoned',
      'priority',
      'extraProperties',
      'concurrencyStamp',
    ]);
    await expect(unique.insertIfAbsent({ ...job, completionTime: T0 })).rejects.toThrow(/no CompletionTime column/);
  });
});

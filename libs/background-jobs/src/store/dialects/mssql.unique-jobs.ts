import { BackgroundJobRecord, recordFromRow } from '../background-job-record';
import type { UniqueJobReplacement, UniqueJobStore } from '../unique-job-store';
import { isGuidText, LEASE_STAMP_LIKE } from './dialect-helpers';
import type { SqlParam, SqlRunner } from './mssql-runner';

/**
 * Unique jobs on SQL Server. The insert tests for the id under UPDLOCK, HOLDLOCK (a key-range lock
 * on the missing key) in the same statement, so two concurrent inserts of one id wait for each
 * other instead of one failing with a duplicate key: no error that would doom the caller's
 * transaction under XACT_ABORT. Every write touches one row by its key (ROWLOCK).
 */
export const INSERT_JOB_IF_ABSENT = `INSERT INTO [AbpBackgroundJobs] WITH (ROWLOCK) ([Id], [ApplicationName], [JobName], [JobArgs], [TryCount],
  [CreationTime], [NextTryTime], [LastTryTime], [IsAbandoned], [Priority], [CompletionTime], [ExtraProperties], [ConcurrencyStamp])
SELECT @id, @applicationName, @jobName, @jobArgs, @tryCount, @creationTime, @nextTryTime, @lastTryTime, @isAbandoned, @priority,
  @completionTime, @extraProperties, @concurrencyStamp
WHERE NOT EXISTS (SELECT 1 FROM [AbpBackgroundJobs] WITH (UPDLOCK, HOLDLOCK) WHERE [Id] = @id);`;

const CURRENT = 'SELECT * FROM [AbpBackgroundJobs] WHERE [Id] = @id;';

const MOVE_FINISHED = `UPDATE [AbpBackgroundJobs] WITH (ROWLOCK) SET [Id] = @newId
WHERE [Id] = @id AND ([CompletionTime] IS NOT NULL OR [IsAbandoned] = 1);`;

const REPLACE_WAITING = `UPDATE [AbpBackgroundJobs] WITH (ROWLOCK)
SET [JobArgs] = @jobArgs, [Priority] = @priority, [NextTryTime] = @nextTryTime, [ConcurrencyStamp] = @newStamp
WHERE [Id] = @id AND [CompletionTime] IS NULL AND [IsAbandoned] = 0
  AND NOT ([ConcurrencyStamp] LIKE N'${LEASE_STAMP_LIKE}' AND [NextTryTime] > @now);`;

/** The parameters of INSERT_JOB_IF_ABSENT, each with its column's type. */
export function jobRowParams(r: BackgroundJobRecord): SqlParam[] {
  return [
    { name: 'id', type: 'uniqueidentifier', value: r.id },
    { name: 'applicationName', type: 'nvarchar(96)', value: r.applicationName },
    { name: 'jobName', type: 'nvarchar(128)', value: r.jobName },
    { name: 'jobArgs', type: 'nvarchar(max)', value: r.jobArgs },
    { name: 'tryCount', type: 'int', value: r.tryCount },
    { name: 'creationTime', type: 'datetime2', value: r.creationTime },
    { name: 'nextTryTime', type: 'datetime2', value: r.nextTryTime },
    { name: 'lastTryTime', type: 'datetime2', value: r.lastTryTime },
    { name: 'isAbandoned', type: 'bit', value: r.isAbandoned },
    { name: 'priority', type: 'int', value: r.priority },
    { name: 'completionTime', type: 'datetime2', value: r.completionTime },
    { name: 'extraProperties', type: 'nvarchar(max)', value: r.extraProperties },
    { name: 'concurrencyStamp', type: 'nvarchar(40)', value: r.concurrencyStamp },
  ];
}

/** No statement here retries itself: a deadlock victim's transaction is the caller's to retry. */
export class MssqlUniqueJobs implements UniqueJobStore {
  constructor(private readonly sql: SqlRunner) {}

  async current(id: string): Promise<BackgroundJobRecord | undefined> {
    if (!isGuidText(id)) return undefined;
    const { rows } = await this.sql.query(CURRENT, [{ name: 'id', type: 'uniqueidentifier', value: id }]);
    return rows[0] && recordFromRow(rows[0]);
  }

  async insertIfAbsent(row: BackgroundJobRecord): Promise<boolean> {
    return (await this.sql.query(INSERT_JOB_IF_ABSENT, jobRowParams(row))).rowsAffected === 1;
  }

  async moveFinished(id: string, newId: string): Promise<boolean> {
    const { rowsAffected } = await this.sql.query(MOVE_FINISHED, [
      { name: 'id', type: 'uniqueidentifier', value: id },
      { name: 'newId', type: 'uniqueidentifier', value: newId },
    ]);
    return rowsAffected === 1;
  }

  async replaceWaiting(r: UniqueJobReplacement, now: Date): Promise<boolean> {
    const { rowsAffected } = await this.sql.query(REPLACE_WAITING, [
      { name: 'id', type: 'uniqueidentifier', value: r.id },
      { name: 'jobArgs', type: 'nvarchar(max)', value: r.jobArgs },
      { name: 'priority', type: 'int', value: r.priority },
      { name: 'nextTryTime', type: 'datetime2', value: r.nextTryTime },
      { name: 'newStamp', type: 'nvarchar(40)', value: r.newStamp },
      { name: 'now', type: 'datetime2', value: now },
    ]);
    return rowsAffected === 1;
  }
}

import type { CancellationRequest, JobCancellationStore, WaitingJobCancellation } from '../job-cancellation-store';
import { fromUtcText } from '../sql-time';
import { chunk, LEASE_STAMP_LIKE, MAX_IDS_PER_STATEMENT, retryOnDeadlock } from './dialect-helpers';
import type { SqlParam, SqlRunner } from './mssql-runner';
import { mssqlLiveRows } from './mssql.admin';
import { perShape, TableShape, TableShapeCache } from '../table-shape';

/** Ours, beside ABP's: the requests to cancel held jobs. A part of MssqlBackgroundJobStore's MIGRATE batch. */
export const MSSQL_CANCELLATIONS_MIGRATION = `IF OBJECT_ID(N'[AbpBackgroundJobCancellations]', N'U') IS NULL
  CREATE TABLE [AbpBackgroundJobCancellations] (
    [Id] uniqueidentifier NOT NULL,
    [JobCreationTime] datetime2 NOT NULL,
    [RequestedBy] nvarchar(256) NULL,
    [CreationTime] datetime2 NOT NULL,
    CONSTRAINT [PK_AbpBackgroundJobCancellations] PRIMARY KEY ([Id])
  );`;

/** The statements on AbpBackgroundJobs for a table of this shape, built once per shape (see table-shape.ts). */
const statementsFor = perShape((shape: TableShape) => ({
  ABANDON_WAITING: `UPDATE [AbpBackgroundJobs] WITH (ROWLOCK)
SET [IsAbandoned] = CAST(1 AS bit), [ExtraProperties] = @extraProperties, [ConcurrencyStamp] = @newStamp
WHERE [Id] = @id AND [ConcurrencyStamp] = @expectedStamp AND ${mssqlLiveRows(shape)}
  AND NOT ([ConcurrencyStamp] LIKE N'${LEASE_STAMP_LIKE}' AND [NextTryTime] > @now);`,
  /** At most @limit rows: the caller keeps it well under lock escalation's 5,000. */
  DELETE_SETTLED: `DELETE TOP (@limit) FROM [AbpBackgroundJobCancellations] WITH (ROWLOCK)
WHERE NOT EXISTS (
  SELECT 1 FROM [AbpBackgroundJobs] AS [job]
  WHERE [job].[Id] = [AbpBackgroundJobCancellations].[Id] AND ${shape.completionTime ? '[job].[CompletionTime] IS NULL AND ' : ''}[job].[IsAbandoned] = 0);`,
}));

/**
 * Upsert in the driver's transaction: the UPDATE's UPDLOCK, SERIALIZABLE holds the key (or the gap
 * where it would go) until COMMIT, so a second request of the same id waits and then updates.
 */
const REQUEST = `UPDATE [AbpBackgroundJobCancellations] WITH (UPDLOCK, SERIALIZABLE)
SET [JobCreationTime] = @jobCreationTime, [RequestedBy] = @requestedBy, [CreationTime] = @now
WHERE [Id] = @id;
IF @@ROWCOUNT = 0
  INSERT INTO [AbpBackgroundJobCancellations] ([Id], [JobCreationTime], [RequestedBy], [CreationTime])
  VALUES (@id, @jobCreationTime, @requestedBy, @now);`;

const IDS = `[Id] IN (SELECT [Id] FROM OPENJSON(@ids) WITH ([Id] uniqueidentifier '$'))`;
const FIND_REQUESTS = `SELECT [Id], [JobCreationTime], [RequestedBy] FROM [AbpBackgroundJobCancellations] WHERE ${IDS};`;
const DELETE_REQUESTS = `DELETE FROM [AbpBackgroundJobCancellations] WITH (ROWLOCK) WHERE ${IDS};`;
export class MssqlCancellations implements JobCancellationStore {
  constructor(
    private readonly sql: SqlRunner,
    private readonly table: TableShapeCache,
  ) {}

  async abandonWaiting(c: WaitingJobCancellation, now: Date): Promise<boolean> {
    const { ABANDON_WAITING } = statementsFor(await this.table.shape());
    const { rowsAffected } = await this.sql.query(ABANDON_WAITING, [
      { name: 'id', type: 'uniqueidentifier', value: c.id },
      { name: 'expectedStamp', type: 'nvarchar(40)', value: c.expectedStamp },
      { name: 'extraProperties', type: 'nvarchar(max)', value: c.extraProperties },
      { name: 'newStamp', type: 'nvarchar(40)', value: c.newStamp },
      { name: 'now', type: 'datetime2', value: now },
    ]);
    return rowsAffected === 1;
  }

  async request(request: CancellationRequest, now: Date): Promise<void> {
    const params: SqlParam[] = [
      { name: 'id', type: 'uniqueidentifier', value: request.id },
      { name: 'jobCreationTime', type: 'datetime2', value: request.jobCreationTime },
      { name: 'requestedBy', type: 'nvarchar(256)', value: request.requestedBy },
      { name: 'now', type: 'datetime2', value: now },
    ];
    await retryOnDeadlock(() => this.sql.transaction((tx) => tx.query(REQUEST, params)), isDeadlock);
  }

  async findRequests(ids: string[]): Promise<CancellationRequest[]> {
    const found: CancellationRequest[] = [];
    for (const part of chunk(ids, MAX_IDS_PER_STATEMENT)) {
      const { rows } = await this.sql.query(FIND_REQUESTS, [idsParam(part)]);
      for (const r of rows)
        found.push({
          id: (r.Id as string).toLowerCase(),
          jobCreationTime: fromUtcText(r.JobCreationTime as Date | string)!,
          requestedBy: (r.RequestedBy as string | null) ?? null,
        });
    }
    return found;
  }

  async deleteRequests(ids: string[]): Promise<void> {
    for (const part of chunk(ids, MAX_IDS_PER_STATEMENT)) await this.sql.query(DELETE_REQUESTS, [idsParam(part)]);
  }

  async deleteSettledRequests(limit: number): Promise<number> {
    const { DELETE_SETTLED } = statementsFor(await this.table.shape());
    const { rowsAffected } = await this.sql.query(DELETE_SETTLED, [{ name: 'limit', type: 'int', value: limit }]);
    return rowsAffected;
  }
}

function idsParam(ids: string[]): SqlParam {
  return { name: 'ids', type: 'nvarchar(max)', value: JSON.stringify(ids) };
}

/** 1205: chosen as a deadlock victim; the transaction was rolled back. */
export function isDeadlock(error: unknown): boolean {
  return (error as { number?: number })?.number === 1205;
}

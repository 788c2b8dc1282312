import { BackgroundJobRecord, recordFromRow } from '../background-job-record';
import {
  AbpColumn,
  NO_COMPLETION_TIME,
  perShape,
  recordField,
  TableShape,
  TableShapeCache,
  tableColumns,
} from '../table-shape';
import type { UniqueJobReplacement, UniqueJobStore } from '../unique-job-store';
import { isGuidText, LEASE_STAMP_LIKE } from './dialect-helpers';
import type { MssqlParamType, SqlParam, SqlRunner } from './mssql-runner';
import { mssqlLiveRows } from './mssql.admin';

/**
 * Unique jobs on SQL Server. The insert tests for the id under UPDLOCK, HOLDLOCK (a key-range lock
 * on the missing key) in the same statement, so two concurrent inserts of one id wait for each
 * other instead of one failing with a duplicate key: no error that would doom the caller's
 * transaction under XACT_ABORT. Every write touches one row by its key (ROWLOCK).
 */
export const insertJobIfAbsent = perShape((shape: TableShape) => {
  const columns = tableColumns(shape);
  return `INSERT INTO [AbpBackgroundJobs] WITH (ROWLOCK) (${columns.map((c) => `[${c}]`).join(', ')})
SELECT ${columns.map((c) => `@${recordField(c)}`).join(', ')}
WHERE NOT EXISTS (SELECT 1 FROM [AbpBackgroundJobs] WITH (UPDLOCK, HOLDLOCK) WHERE [Id] = @id);`;
});

const CURRENT = 'SELECT * FROM [AbpBackgroundJobs] WHERE [Id] = @id;';

/** The statements that test a row's state, for a table of this shape, built once per shape. */
const statementsFor = perShape((shape: TableShape) => ({
  MOVE_FINISHED: `UPDATE [AbpBackgroundJobs] WITH (ROWLOCK) SET [Id] = @newId
WHERE [Id] = @id AND ${shape.completionTime ? '([CompletionTime] IS NOT NULL OR [IsAbandoned] = 1)' : '[IsAbandoned] = 1'};`,
  REPLACE_WAITING: `UPDATE [AbpBackgroundJobs] WITH (ROWLOCK)
SET [JobArgs] = @jobArgs, [Priority] = @priority, [NextTryTime] = @nextTryTime, [ConcurrencyStamp] = @newStamp
WHERE [Id] = @id AND ${mssqlLiveRows(shape)}
  AND NOT ([ConcurrencyStamp] LIKE N'${LEASE_STAMP_LIKE}' AND [NextTryTime] > @now);`,
}));

/** Each column's parameter type. */
const TYPES: Record<AbpColumn, MssqlParamType> = {
  Id: 'uniqueidentifier',
  ApplicationName: 'nvarchar(96)',
  JobName: 'nvarchar(128)',
  JobArgs: 'nvarchar(max)',
  TryCount: 'int',
  CreationTime: 'datetime2',
  NextTryTime: 'datetime2',
  LastTryTime: 'datetime2',
  IsAbandoned: 'bit',
  Priority: 'int',
  CompletionTime: 'datetime2',
  ExtraProperties: 'nvarchar(max)',
  ConcurrencyStamp: 'nvarchar(40)',
};

/**
 * The parameters of insertJobIfAbsent(shape), each with its column's type: only the table's
 * columns. A row with a CompletionTime cannot go into a table without one.
 */
export function jobRowParams(r: BackgroundJobRecord, shape: TableShape): SqlParam[] {
  if (!shape.completionTime && r.completionTime !== null) throw new Error(NO_COMPLETION_TIME);
  return tableColumns(shape).map((c): SqlParam => ({ name: recordField(c), type: TYPES[c], value: r[recordField(c)] }));
}

/** No statement here retries itself: a deadlock victim's transaction is the caller's to retry. */
export class MssqlUniqueJobs implements UniqueJobStore {
  constructor(
    private readonly sql: SqlRunner,
    private readonly table: TableShapeCache,
  ) {}

  async current(id: string): Promise<BackgroundJobRecord | undefined> {
    if (!isGuidText(id)) return undefined;
    const { rows } = await this.sql.query(CURRENT, [{ name: 'id', type: 'uniqueidentifier', value: id }]);
    return rows[0] && recordFromRow(rows[0]);
  }

  async insertIfAbsent(row: BackgroundJobRecord): Promise<boolean> {
    const shape = await this.table.shape();
    return (await this.sql.query(insertJobIfAbsent(shape), jobRowParams(row, shape))).rowsAffected === 1;
  }

  async moveFinished(id: string, newId: string): Promise<boolean> {
    const { MOVE_FINISHED } = statementsFor(await this.table.shape());
    const { rowsAffected } = await this.sql.query(MOVE_FINISHED, [
      { name: 'id', type: 'uniqueidentifier', value: id },
      { name: 'newId', type: 'uniqueidentifier', value: newId },
    ]);
    return rowsAffected === 1;
  }

  async replaceWaiting(r: UniqueJobReplacement, now: Date): Promise<boolean> {
    const { REPLACE_WAITING } = statementsFor(await this.table.shape());
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

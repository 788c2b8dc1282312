import type { Pool, PoolClient } from 'pg';
import { BackgroundJobRecord, recordFromRow } from '../background-job-record';
import { toUtcText } from '../sql-time';
import {
  AbpColumn,
  NO_COMPLETION_TIME,
  perShape,
  recordField,
  shapeTag,
  TableShape,
  TableShapeCache,
  tableColumns,
} from '../table-shape';
import type { UniqueJobReplacement, UniqueJobStore } from '../unique-job-store';
import { LEASE_STAMP_LIKE } from './dialect-helpers';
import { columnList, NOTIFY_CHANNEL } from './postgres.names';
import { liveAndAbandoned } from './postgres.admin';

/** The pool, or the client of the caller's transaction: both send the same named statements. */
export type PostgresQueryable = Pick<Pool | PoolClient, 'query'>;

/**
 * Unique jobs on PostgreSQL. ON CONFLICT DO NOTHING: a taken id is no error, so the caller's
 * transaction goes on (PostgreSQL aborts a transaction at its first error); an insert meeting an
 * uncommitted insert of the same id waits for it, then writes or not. Each write that makes a job
 * due NOTIFYs in its own statement, so listening workers wake when it commits.
 */
const notifyIfAny = (cte: string) => `SELECT pg_notify('${NOTIFY_CHANNEL}', '') AS notified FROM ${cte}`;

/** Each column's parameter type, in ABP_COLUMNS' order: the insert sends only the table's columns. */
const TYPES: Record<AbpColumn, string> = {
  Id: 'uuid',
  ApplicationName: 'varchar',
  JobName: 'varchar',
  JobArgs: 'varchar',
  TryCount: 'smallint',
  CreationTime: 'timestamp',
  NextTryTime: 'timestamp',
  LastTryTime: 'timestamp',
  IsAbandoned: 'boolean',
  Priority: 'smallint',
  CompletionTime: 'timestamp',
  ExtraProperties: 'text',
  ConcurrencyStamp: 'varchar',
};

/** The statements for a table of this shape, built once per shape (see table-shape.ts). */
const statementsFor = perShape((shape: TableShape) => {
  const COLUMNS = columnList(shape);
  const { live, abandoned } = liveAndAbandoned(shape);
  const finished = shape.completionTime ? `("CompletionTime" IS NOT NULL OR "IsAbandoned" = TRUE)` : abandoned;
  return {
    tag: shapeTag(shape),
    completionTime: shape.completionTime,
    columns: tableColumns(shape),
    INSERT_IF_ABSENT: `WITH inserted AS (
    INSERT INTO "AbpBackgroundJobs" (${COLUMNS})
    VALUES (${tableColumns(shape)
      .map((c, i) => `$${i + 1}::${TYPES[c]}`)
      .join(', ')})
    ON CONFLICT ("Id") DO NOTHING
    RETURNING 1)
  ${notifyIfAny('inserted')}`,
    CURRENT: `SELECT ${COLUMNS} FROM "AbpBackgroundJobs" WHERE "Id" = $1::uuid`,
    MOVE_FINISHED: `UPDATE "AbpBackgroundJobs" SET "Id" = $2::uuid WHERE "Id" = $1::uuid AND ${finished}`,
    REPLACE_WAITING: `WITH replaced AS (
    UPDATE "AbpBackgroundJobs" SET "JobArgs" = $2, "Priority" = $3, "NextTryTime" = $4::timestamp, "ConcurrencyStamp" = $5
    WHERE "Id" = $1::uuid AND ${live}
      AND NOT ("ConcurrencyStamp" LIKE '${LEASE_STAMP_LIKE}' AND "NextTryTime" > $6::timestamp)
    RETURNING 1)
  ${notifyIfAny('replaced')}`,
  };
});

export class PostgresUniqueJobs implements UniqueJobStore {
  constructor(
    private readonly db: PostgresQueryable,
    private readonly table: TableShapeCache,
  ) {}

  private async statements() {
    return statementsFor(await this.table.shape());
  }

  async current(id: string): Promise<BackgroundJobRecord | undefined> {
    const statements = await this.statements();
    const { rows } = await this.db.query<Record<string, unknown>>({
      name: `bj_unique_current${statements.tag}`,
      text: statements.CURRENT,
      values: [id],
    });
    return rows[0] && recordFromRow(rows[0]);
  }

  /** Only the table's columns: a row with a CompletionTime cannot go into a table without one. */
  async insertIfAbsent(row: BackgroundJobRecord): Promise<boolean> {
    const statements = await this.statements();
    if (!statements.completionTime && row.completionTime !== null) throw new Error(NO_COMPLETION_TIME);
    const value = (column: AbpColumn) => {
      const v = row[recordField(column)];
      return v instanceof Date ? toUtcText(v) : v;
    };
    const { rows } = await this.db.query({
      name: `bj_unique_insert${statements.tag}`,
      text: statements.INSERT_IF_ABSENT,
      values: statements.columns.map(value),
    });
    return rows.length > 0;
  }

  async moveFinished(id: string, newId: string): Promise<boolean> {
    const statements = await this.statements();
    const { rowCount } = await this.db.query({
      name: `bj_unique_move${statements.tag}`,
      text: statements.MOVE_FINISHED,
      values: [id, newId],
    });
    return rowCount === 1;
  }

  async replaceWaiting(replacement: UniqueJobReplacement, now: Date): Promise<boolean> {
    const statements = await this.statements();
    const { rows } = await this.db.query({
      name: `bj_unique_replace${statements.tag}`,
      text: statements.REPLACE_WAITING,
      values: [
        replacement.id,
        replacement.jobArgs,
        replacement.priority,
        toUtcText(replacement.nextTryTime),
        replacement.newStamp,
        toUtcText(now),
      ],
    });
    return rows.length > 0;
  }
}

import type { Pool, PoolClient } from 'pg';
import { BackgroundJobRecord, recordFromRow } from '../background-job-record';
import { toUtcText } from '../sql-time';
import type { UniqueJobReplacement, UniqueJobStore } from '../unique-job-store';
import { LEASE_STAMP_LIKE } from './dialect-helpers';
import { COLUMNS, NOTIFY_CHANNEL } from './postgres.names';

/** The pool, or the client of the caller's transaction: both send the same named statements. */
export type PostgresQueryable = Pick<Pool | PoolClient, 'query'>;

/**
 * Unique jobs on PostgreSQL. ON CONFLICT DO NOTHING: a taken id is no error, so the caller's
 * transaction goes on (PostgreSQL aborts a transaction at its first error); an insert meeting an
 * uncommitted insert of the same id waits for it, then writes or not. Each write that makes a job
 * due NOTIFYs in its own statement, so listening workers wake when it commits.
 */
const notifyIfAny = (cte: string) => `SELECT pg_notify('${NOTIFY_CHANNEL}', '') AS notified FROM ${cte}`;

const INSERT_IF_ABSENT = `WITH inserted AS (
    INSERT INTO "AbpBackgroundJobs" (${COLUMNS})
    VALUES ($1::uuid, $2, $3, $4, $5, $6::timestamp, $7::timestamp, $8::timestamp, $9, $10, $11::timestamp, $12, $13)
    ON CONFLICT ("Id") DO NOTHING
    RETURNING 1)
  ${notifyIfAny('inserted')}`;

const CURRENT = `SELECT ${COLUMNS} FROM "AbpBackgroundJobs" WHERE "Id" = $1::uuid`;

const MOVE_FINISHED = `UPDATE "AbpBackgroundJobs" SET "Id" = $2::uuid
  WHERE "Id" = $1::uuid AND ("CompletionTime" IS NOT NULL OR "IsAbandoned" = TRUE)`;

const REPLACE_WAITING = `WITH replaced AS (
    UPDATE "AbpBackgroundJobs" SET "JobArgs" = $2, "Priority" = $3, "NextTryTime" = $4::timestamp, "ConcurrencyStamp" = $5
    WHERE "Id" = $1::uuid AND "CompletionTime" IS NULL AND "IsAbandoned" = FALSE
      AND NOT ("ConcurrencyStamp" LIKE '${LEASE_STAMP_LIKE}' AND "NextTryTime" > $6::timestamp)
    RETURNING 1)
  ${notifyIfAny('replaced')}`;

export class PostgresUniqueJobs implements UniqueJobStore {
  constructor(private readonly db: PostgresQueryable) {}

  async current(id: string): Promise<BackgroundJobRecord | undefined> {
    const { rows } = await this.db.query<Record<string, unknown>>({
      name: 'bj_unique_current',
      text: CURRENT,
      values: [id],
    });
    return rows[0] && recordFromRow(rows[0]);
  }

  async insertIfAbsent(row: BackgroundJobRecord): Promise<boolean> {
    const time = (value: Date | null) => value && toUtcText(value);
    const { rows } = await this.db.query({
      name: 'bj_unique_insert',
      text: INSERT_IF_ABSENT,
      values: [
        row.id,
        row.applicationName,
        row.jobName,
        row.jobArgs,
        row.tryCount,
        time(row.creationTime),
        time(row.nextTryTime),
        time(row.lastTryTime),
        row.isAbandoned,
        row.priority,
        time(row.completionTime),
        row.extraProperties,
        row.concurrencyStamp,
      ],
    });
    return rows.length > 0;
  }

  async moveFinished(id: string, newId: string): Promise<boolean> {
    const { rowCount } = await this.db.query({ name: 'bj_unique_move', text: MOVE_FINISHED, values: [id, newId] });
    return rowCount === 1;
  }

  async replaceWaiting(replacement: UniqueJobReplacement, now: Date): Promise<boolean> {
    const { rows } = await this.db.query({
      name: 'bj_unique_replace',
      text: REPLACE_WAITING,
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

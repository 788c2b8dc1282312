import type { Pool } from 'pg';
import type { CancellationRequest, JobCancellationStore, WaitingJobCancellation } from '../job-cancellation-store';
import { fromUtcText, toUtcText } from '../sql-time';
import { perShape, shapeTag, TableShape, TableShapeCache } from '../table-shape';
import { isGuidText, LEASE_STAMP_LIKE } from './dialect-helpers';
import { liveAndAbandoned } from './postgres.admin';
import { PostgresWorkNotifier } from './postgres.dialect';

/** Workers LISTEN here; each request NOTIFYs the job's id, so the worker holding it aborts it at once. */
export const CANCEL_CHANNEL = 'abp_background_jobs_cancel';

/** Ours, beside ABP's: the requests to cancel held jobs. Run at the end of PostgresBackgroundJobStore.migrate(). */
export const POSTGRES_CANCELLATIONS_MIGRATION = [
  `CREATE TABLE IF NOT EXISTS "AbpBackgroundJobCancellations" (
    "Id" uuid NOT NULL,
    "JobCreationTime" timestamp without time zone NOT NULL,
    "RequestedBy" character varying(256) NULL,
    "CreationTime" timestamp without time zone NOT NULL,
    CONSTRAINT "PK_AbpBackgroundJobCancellations" PRIMARY KEY ("Id"))`,
];

/** The statements on AbpBackgroundJobs for a table of this shape, built once per shape (see table-shape.ts). */
const statementsFor = perShape((shape: TableShape) => {
  const { live } = liveAndAbandoned(shape);
  const settled = shape.completionTime
    ? 'job."CompletionTime" IS NOT NULL OR job."IsAbandoned" = TRUE'
    : 'job."IsAbandoned" = TRUE';
  return {
    tag: shapeTag(shape),
    ABANDON_WAITING: `UPDATE "AbpBackgroundJobs" SET "IsAbandoned" = TRUE, "ExtraProperties" = $3, "ConcurrencyStamp" = $4
  WHERE "Id" = $1::uuid AND "ConcurrencyStamp" = $2 AND ${live}
    AND NOT ("ConcurrencyStamp" LIKE '${LEASE_STAMP_LIKE}' AND "NextTryTime" > $5::timestamp)`,
    /** Requests whose job is gone or will not run again; SKIP LOCKED so two workers never wait on each other. */
    DELETE_SETTLED: `DELETE FROM "AbpBackgroundJobCancellations" WHERE "Id" IN (
  SELECT request."Id" FROM "AbpBackgroundJobCancellations" AS request
  LEFT JOIN "AbpBackgroundJobs" AS job ON job."Id" = request."Id"
  WHERE job."Id" IS NULL OR ${settled}
  LIMIT $1 FOR UPDATE OF request SKIP LOCKED)`,
  };
});

const REQUEST = `WITH requested AS (
    INSERT INTO "AbpBackgroundJobCancellations" ("Id", "JobCreationTime", "RequestedBy", "CreationTime")
    VALUES ($1::uuid, $2::timestamp, $3, $4::timestamp)
    ON CONFLICT ("Id") DO UPDATE SET "JobCreationTime" = EXCLUDED."JobCreationTime", "RequestedBy" = EXCLUDED."RequestedBy",
      "CreationTime" = EXCLUDED."CreationTime"
    RETURNING "Id")
  SELECT pg_notify('${CANCEL_CHANNEL}', "Id"::text) AS notified FROM requested`;

const FIND_REQUESTS = `SELECT "Id", "JobCreationTime"::text AS "JobCreationTime", "RequestedBy"
  FROM "AbpBackgroundJobCancellations" WHERE "Id" = ANY($1::uuid[])`;

const DELETE_REQUESTS = `DELETE FROM "AbpBackgroundJobCancellations" WHERE "Id" = ANY($1::uuid[])`;

export class PostgresCancellations implements JobCancellationStore {
  readonly notifier: PostgresWorkNotifier;

  constructor(
    private readonly pool: Pool,
    private readonly table: TableShapeCache,
    channel = CANCEL_CHANNEL,
  ) {
    this.notifier = new PostgresWorkNotifier(pool, channel);
  }

  private async statements() {
    return statementsFor(await this.table.shape());
  }

  async abandonWaiting(cancellation: WaitingJobCancellation, now: Date): Promise<boolean> {
    const statements = await this.statements();
    const { rowCount } = await this.pool.query({
      name: `bj_cancel_waiting${statements.tag}`,
      text: statements.ABANDON_WAITING,
      values: [
        cancellation.id,
        cancellation.expectedStamp,
        cancellation.extraProperties,
        cancellation.newStamp,
        toUtcText(now),
      ],
    });
    return rowCount === 1;
  }

  async request(request: CancellationRequest, now: Date): Promise<void> {
    await this.pool.query({
      name: 'bj_cancel_request',
      text: REQUEST,
      values: [request.id, toUtcText(request.jobCreationTime), request.requestedBy, toUtcText(now)],
    });
  }

  async findRequests(ids: string[]): Promise<CancellationRequest[]> {
    const guids = ids.filter(isGuidText);
    if (guids.length === 0) return [];
    const { rows } = await this.pool.query<{ Id: string; JobCreationTime: string; RequestedBy: string | null }>({
      name: 'bj_cancel_find',
      text: FIND_REQUESTS,
      values: [guids],
    });
    return rows.map((r) => ({
      id: r.Id.toLowerCase(),
      jobCreationTime: fromUtcText(r.JobCreationTime)!,
      requestedBy: r.RequestedBy,
    }));
  }

  async deleteRequests(ids: string[]): Promise<void> {
    const guids = ids.filter(isGuidText);
    if (guids.length > 0) await this.pool.query({ name: 'bj_cancel_delete', text: DELETE_REQUESTS, values: [guids] });
  }

  async deleteSettledRequests(limit: number): Promise<number> {
    const statements = await this.statements();
    const { rowCount } = await this.pool.query({
      name: `bj_cancel_delete_settled${statements.tag}`,
      text: statements.DELETE_SETTLED,
      values: [limit],
    });
    return rowCount ?? 0;
  }
}

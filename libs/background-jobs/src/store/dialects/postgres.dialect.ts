import type { Pool } from 'pg';
import { Client } from 'pg';
import { BackgroundJobRecord, ClaimedJob, MAX_TRY_COUNT, recordFromRow } from '../background-job-record';
import {
  BackgroundJobStore,
  ClaimRequest,
  EnqueueBatch,
  EnqueueKey,
  FailedJobUpdate,
  JobNameCount,
  MAX_DUE_JOB_NAMES,
  ReleaseRequest,
  WorkNotifier,
} from '../background-job-store';
import { toUtcText } from '../sql-time';
import { readClaimedRows, UnreadableJob } from '../unreadable-rows';
import { CountScope, countScope, inTransaction, LEASE_STAMP_LIKE } from './dialect-helpers';
import { isUnavailableError } from './unavailable-errors';

/**
 * PostgreSQL, through the pg pool TypeORM opens. The table is the one ABP's Npgsql provider makes
 * (timestamp without time zone, holding UTC). Every statement has one fixed text whatever the
 * number of rows, so it is prepared once per connection: lists travel as typed arrays (unnest,
 * ANY), except enqueue's columns, which travel as newline-joined text (see ENQUEUE). Times are
 * sent as UTC text. Enqueues NOTIFY in their own statement, so listening workers wake when the
 * insert commits.
 */
const NOTIFY_CHANNEL = 'abp_background_jobs';
const MIGRATION_LOCK_KEY = 727_465_313; // any fixed bigint; names this module's schema lock

const MIGRATE = [
  `CREATE TABLE IF NOT EXISTS "AbpBackgroundJobs" (
    "Id" uuid NOT NULL,
    "ApplicationName" character varying(96) NULL,
    "JobName" character varying(128) NOT NULL,
    "JobArgs" character varying(1048576) NOT NULL,
    "TryCount" smallint NOT NULL DEFAULT 0,
    "CreationTime" timestamp without time zone NOT NULL,
    "NextTryTime" timestamp without time zone NOT NULL,
    "LastTryTime" timestamp without time zone NULL,
    "IsAbandoned" boolean NOT NULL DEFAULT FALSE,
    "Priority" smallint NOT NULL DEFAULT 15,
    "CompletionTime" timestamp without time zone NULL,
    "ExtraProperties" text NOT NULL,
    "ConcurrencyStamp" character varying(40) NOT NULL,
    CONSTRAINT "PK_AbpBackgroundJobs" PRIMARY KEY ("Id"))`,
  `ALTER TABLE "AbpBackgroundJobs" ADD COLUMN IF NOT EXISTS "ApplicationName" character varying(96) NULL`,
  `ALTER TABLE "AbpBackgroundJobs" ADD COLUMN IF NOT EXISTS "CompletionTime" timestamp without time zone NULL`,
  // EF Core cuts identifiers at PostgreSQL's 63 characters with a trailing "~"; this is the name it gives.
  `CREATE INDEX IF NOT EXISTS "IX_AbpBackgroundJobs_ApplicationName_CompletionTime_IsAbandone~"
    ON "AbpBackgroundJobs" ("ApplicationName", "CompletionTime", "IsAbandoned", "NextTryTime")`,
  // Ours, beside ABP's: lets a claim read the first due rows in dequeue order instead of sorting
  // every waiting row under FOR UPDATE. ApplicationName leads, as in the claim's ORDER BY, so the
  // planner prefers it to ABP's index even before the table has statistics. An index of this
  // name on other columns is dropped and made again.
  `DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'IX_AbpBackgroundJobs_Dequeue'
               AND indexdef NOT LIKE '%("ApplicationName", "Priority" DESC, "TryCount", "NextTryTime")%') THEN
      DROP INDEX "IX_AbpBackgroundJobs_Dequeue";
    END IF;
  END $$`,
  `CREATE INDEX IF NOT EXISTS "IX_AbpBackgroundJobs_Dequeue"
    ON "AbpBackgroundJobs" ("ApplicationName", "Priority" DESC, "TryCount", "NextTryTime")
    WHERE "CompletionTime" IS NULL AND "IsAbandoned" = FALSE`,
  // Ours, beside ABP's: see enqueue-keys.ts.
  `CREATE TABLE IF NOT EXISTS "AbpBackgroundJobEnqueueKeys" (
    "Id" uuid NOT NULL,
    "Fingerprint" character varying(64) NOT NULL,
    "CreationTime" timestamp without time zone NOT NULL,
    CONSTRAINT "PK_AbpBackgroundJobEnqueueKeys" PRIMARY KEY ("Id"))`,
  `CREATE INDEX IF NOT EXISTS "IX_AbpBackgroundJobEnqueueKeys_CreationTime" ON "AbpBackgroundJobEnqueueKeys" ("CreationTime")`,
];

const COLUMNS = `"Id", "ApplicationName", "JobName", "JobArgs", "TryCount", "CreationTime", "NextTryTime", "LastTryTime",
  "IsAbandoned", "Priority", "CompletionTime", "ExtraProperties", "ConcurrencyStamp"`;
// Named statements list their columns: a prepared `SELECT *` fails with "cached plan must not
// change result type" once another process (a newer ABP migration) adds a column to the table.

/** Complete rows, one typed array per column, zipped back into rows by unnest. */
const INSERT = `WITH inserted AS (
    INSERT INTO "AbpBackgroundJobs" (${COLUMNS})
    SELECT * FROM unnest($1::uuid[], $2::varchar[], $3::varchar[], $4::varchar[], $5::smallint[], $6::timestamp[],
      $7::timestamp[], $8::timestamp[], $9::boolean[], $10::smallint[], $11::timestamp[], $12::text[], $13::varchar[])
    RETURNING 1)
  SELECT pg_notify('${NOTIFY_CHANNEL}', '') FROM (SELECT 1 FROM inserted LIMIT 1) AS any_row`;

/**
 * The enqueue path: only what varies per job travels, the rest once; each varying column is one
 * text of its values joined by newlines, split back by string_to_array and zipped into rows by
 * ROWS FROM. No value can hold a newline: args are JSON.stringify output (which escapes control
 * characters), job names are checked at registration, the rest are ids, numbers, times and hex.
 * Newline text, not arrays or JSON, because enqueue is the hot path and this is the least to
 * build and parse: JSON args inside a JSON array or an array literal have every quote escaped
 * again. A column the whole batch shares (the job name, priority and due time usually do)
 * travels as NULL plus its one value ($9-$11): ROWS FROM pads it with NULLs, COALESCE fills them
 * in. A column is never the empty text (string_to_array would make no row).
 */
const splitLines = (n: number) => `unnest(string_to_array($${n}::text, E'\\n'))`;
const ENQUEUE = `WITH inserted AS (
    INSERT INTO "AbpBackgroundJobs" (${COLUMNS})
    SELECT new_job.id::uuid, $1, COALESCE(new_job.job_name, $9), new_job.job_args, 0, $2::timestamp,
      COALESCE(new_job.next_try_time, $11)::timestamp, NULL, FALSE, COALESCE(new_job.priority, $10)::smallint, NULL, '{}', new_job.stamp
    FROM ROWS FROM (${splitLines(3)}, ${splitLines(4)}, ${splitLines(5)}, ${splitLines(6)}, ${splitLines(7)}, ${splitLines(8)})
      AS new_job(id, job_name, job_args, priority, next_try_time, stamp)
    RETURNING 1)
  SELECT pg_notify('${NOTIFY_CHANNEL}', '') FROM (SELECT 1 FROM inserted LIMIT 1) AS any_row`;

/**
 * The enqueue of jobs whose caller chose their ids: ENQUEUE, plus the insert of their keys ($12
 * ids, $13 fingerprints, newline-joined as above) in the same statement, so both are written or
 * neither. PostgreSQL runs a data-modifying WITH part to completion though nothing reads it.
 */
const ENQUEUE_KEYED = ENQUEUE.replace(
  /^WITH /,
  `WITH new_key AS (
    INSERT INTO "AbpBackgroundJobEnqueueKeys" ("Id", "Fingerprint", "CreationTime")
    SELECT new_key.id::uuid, new_key.fingerprint, $2::timestamp FROM ROWS FROM (${splitLines(12)}, ${splitLines(13)}) AS new_key(id, fingerprint)),
  `,
);

const FIND_ENQUEUE_KEYS = `SELECT "Id", "Fingerprint" FROM "AbpBackgroundJobEnqueueKeys" WHERE "Id" = ANY($1::uuid[])`;
const DELETE_ENQUEUE_KEYS_BEFORE = `DELETE FROM "AbpBackgroundJobEnqueueKeys" WHERE "Id" IN (
  SELECT "Id" FROM "AbpBackgroundJobEnqueueKeys" WHERE "CreationTime" < $1::timestamp ORDER BY "CreationTime" LIMIT $2
  FOR UPDATE SKIP LOCKED)`;

/**
 * ABP's order; ORDER BY names ApplicationName (one value here) so it matches the dequeue index
 * column for column, which keeps the plan an ordered index scan whatever the statistics say
 * (without them the planner would sort every due row through ABP's index).
 * The update finds the locked rows by ctid, stable while the lock is held: a TID scan instead of
 * a primary-key lookup per row. A row that a concurrent writer
 * changed after this statement's snapshot is locked but not updated, so not claimed: it stays due.
 * Returns only what the claim did not set itself (the rest is known from the request): fewer
 * timestamps to parse per row. Times come back as text, so no value (such as 'infinity') can make
 * the type parser throw after the claim committed; TryCount stops at its smallint top.
 */
const claim = (appNameClause: string) => `WITH due AS (
    SELECT ctid AS tid, "ConcurrencyStamp", "NextTryTime" FROM "AbpBackgroundJobs"
    WHERE ${appNameClause} AND "CompletionTime" IS NULL AND "IsAbandoned" = FALSE AND "NextTryTime" <= $2
      AND "JobName" = ANY($3::varchar[])
    ORDER BY "ApplicationName", "Priority" DESC, "TryCount", "NextTryTime"
    LIMIT $4
    FOR UPDATE SKIP LOCKED)
  UPDATE "AbpBackgroundJobs" AS job
  SET "TryCount" = CASE WHEN job."TryCount" < ${MAX_TRY_COUNT} THEN job."TryCount" + 1 ELSE job."TryCount" END,
    "LastTryTime" = $2, "NextTryTime" = $5, "ConcurrencyStamp" = $6
  FROM due WHERE job.ctid = due.tid AND job.ctid = ANY(ARRAY(SELECT tid FROM due))
  RETURNING job."Id", job."JobName", job."JobArgs", job."TryCount", job."CreationTime"::text AS "CreationTime", job."Priority",
    job."ExtraProperties", due."ConcurrencyStamp" LIKE '${LEASE_STAMP_LIKE}' AS "PreviousLeaseExpired", due."NextTryTime"::text AS "DueTime"`;
const CLAIM_FOR_APP = claim('"ApplicationName" = $1');
const CLAIM_FOR_NULL_APP = claim('"ApplicationName" IS NULL AND $1::varchar IS NULL');
/** The claim's text, for the test that checks its plan (test/contract/postgres-claim-plan.test.ts). */
export const POSTGRES_CLAIM = { forApp: CLAIM_FOR_APP, forNullApp: CLAIM_FOR_NULL_APP };

const ABANDON_UNREADABLE = `UPDATE "AbpBackgroundJobs" AS job
  SET "IsAbandoned" = TRUE, "ExtraProperties" = unreadable.extra_properties, "ConcurrencyStamp" = unreadable.new_stamp
  FROM unnest($1::uuid[], $2::text[], $3::varchar[]) AS unreadable(id, extra_properties, new_stamp)
  WHERE job."Id" = unreadable.id AND job."ConcurrencyStamp" = $4`;

const COMPLETE = `DELETE FROM "AbpBackgroundJobs" WHERE "Id" = ANY($1::uuid[]) AND "ConcurrencyStamp" = $2`;

const FAIL = `UPDATE "AbpBackgroundJobs" AS job
  SET "NextTryTime" = COALESCE(failed.next_try_time, job."NextTryTime"), "IsAbandoned" = failed.next_try_time IS NULL,
      "ExtraProperties" = failed.extra_properties, "ConcurrencyStamp" = failed.new_stamp
  FROM unnest($1::uuid[], $2::varchar[], $3::timestamp[], $4::text[], $5::varchar[])
    AS failed(id, lease_token, next_try_time, extra_properties, new_stamp)
  WHERE job."Id" = failed.id AND job."ConcurrencyStamp" = failed.lease_token`;

const EXTEND = `UPDATE "AbpBackgroundJobs" SET "NextTryTime" = $3 WHERE "Id" = ANY($1::uuid[]) AND "ConcurrencyStamp" = $2`;

const RELEASE = `UPDATE "AbpBackgroundJobs"
  SET "NextTryTime" = $3, "ConcurrencyStamp" = $4,
      "TryCount" = CASE WHEN $5::boolean THEN GREATEST("TryCount" - 1, 0) ELSE "TryCount" END
  WHERE "Id" = ANY($1::uuid[]) AND "ConcurrencyStamp" = $2`;

const FIND = `SELECT ${COLUMNS} FROM "AbpBackgroundJobs" WHERE "Id" = $1`;
const COUNT: Record<CountScope, string> = {
  all: `SELECT COUNT(*)::int AS n FROM "AbpBackgroundJobs"`,
  noApplication: `SELECT COUNT(*)::int AS n FROM "AbpBackgroundJobs" WHERE "ApplicationName" IS NULL`,
  application: `SELECT COUNT(*)::int AS n FROM "AbpBackgroundJobs" WHERE "ApplicationName" = $1`,
};
/**
 * The claim's due-row filter without its job names: ABP's index (ApplicationName, CompletionTime,
 * IsAbandoned, NextTryTime) reads just the due rows. Groups and orders in the "C" collation, byte
 * order, whatever the column's collation (a nondeterministic one would merge 'Job' and 'job').
 */
const dueByJobName = (
  appNameClause: string,
) => `SELECT "JobName" COLLATE "C" AS "JobName", COUNT(*)::int AS n FROM "AbpBackgroundJobs"
  WHERE ${appNameClause} AND "CompletionTime" IS NULL AND "IsAbandoned" = FALSE AND "NextTryTime" <= $1
  GROUP BY "JobName" COLLATE "C" ORDER BY n DESC, "JobName" COLLATE "C" LIMIT ${MAX_DUE_JOB_NAMES}`;
const DUE_BY_JOB_NAME_FOR_APP = dueByJobName('"ApplicationName" = $2');
const DUE_BY_JOB_NAME_FOR_NULL_APP = dueByJobName('"ApplicationName" IS NULL');
const PING = 'SELECT 1';

type Row = Record<string, unknown>;

export class PostgresBackgroundJobStore implements BackgroundJobStore {
  readonly dialect = 'postgres' as const;
  readonly notifier: WorkNotifier;

  constructor(private readonly pool: Pool) {
    this.notifier = new PostgresWorkNotifier(pool);
  }

  async migrate(): Promise<void> {
    await inTransaction(
      () => this.pool.connect(),
      async (client) => {
        await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
        for (const ddl of MIGRATE) await client.query(ddl);
      },
    );
  }

  async enqueue(batch: EnqueueBatch): Promise<void> {
    const { jobs, creationTime } = batch;
    const created = toUtcText(creationTime);
    type NewJob = EnqueueBatch['jobs'][number];
    const column = (value: (job: NewJob) => string | number) => jobs.map(value).join('\n');
    /** [the column, its one value]: the full column, or none and the value all rows share. */
    const uniform = <T extends string | number>(value: (job: NewJob) => T): [string | null, T | null] => {
      const values = jobs.map(value);
      return values.every((v) => v === values[0]) ? [null, values[0]] : [values.join('\n'), null];
    };
    const [names, name] = uniform((j) => j.jobName);
    const [priorities, priority] = uniform((j) => j.priority);
    const [times, time] = uniform((j) =>
      j.nextTryTime.getTime() === creationTime.getTime() ? created : toUtcText(j.nextTryTime),
    );
    const values = [
      batch.applicationName,
      created,
      column((j) => j.id),
      names,
      column((j) => j.jobArgs),
      priorities,
      times,
      column((j) => j.concurrencyStamp),
      name,
      priority,
      time,
    ];
    if (!batch.keys?.length) {
      await this.run('bj_enqueue', ENQUEUE, values);
      return;
    }
    const keys = batch.keys;
    await this.run('bj_enqueue_keyed', ENQUEUE_KEYED, [
      ...values,
      keys.map((k) => k.id).join('\n'),
      keys.map((k) => k.fingerprint).join('\n'),
    ]);
  }

  async insert(rows: BackgroundJobRecord[]): Promise<void> {
    const column = <T>(value: (row: BackgroundJobRecord) => T) => rows.map(value);
    const time = (value: Date | null) => value && toUtcText(value);
    await this.run('bj_insert', INSERT, [
      column((r) => r.id),
      column((r) => r.applicationName),
      column((r) => r.jobName),
      column((r) => r.jobArgs),
      column((r) => r.tryCount),
      column((r) => time(r.creationTime)),
      column((r) => time(r.nextTryTime)),
      column((r) => time(r.lastTryTime)),
      column((r) => r.isAbandoned),
      column((r) => r.priority),
      column((r) => time(r.completionTime)),
      column((r) => r.extraProperties),
      column((r) => r.concurrencyStamp),
    ]);
  }

  /** The ANY(ARRAY(...)) gives the update a TID scan instead of a hash join over the whole table. */
  async claim(request: ClaimRequest): Promise<ClaimedJob[]> {
    const [name, text] =
      request.applicationName === null ? ['bj_claim_null', CLAIM_FOR_NULL_APP] : ['bj_claim', CLAIM_FOR_APP];
    const rows = await this.run(name, text, [
      request.applicationName,
      toUtcText(request.now),
      request.jobNames,
      request.limit,
      toUtcText(request.leaseUntil),
      request.leaseToken,
    ]);
    // Due times are ISO text, which sorts as time does.
    rows.sort(
      (a, b) =>
        (b.Priority as number) - (a.Priority as number) ||
        (a.TryCount as number) - (b.TryCount as number) ||
        (a.DueTime === b.DueTime ? 0 : (a.DueTime as string) < (b.DueTime as string) ? -1 : 1),
    );
    return readClaimedRows(
      rows,
      request,
      (row) => row.PreviousLeaseExpired === true,
      (u) => this.abandonUnreadable(u, request.leaseToken),
      (r) => this.release(r),
    );
  }

  private async abandonUnreadable(jobs: UnreadableJob[], leaseToken: string): Promise<void> {
    await this.run('bj_abandon_unreadable', ABANDON_UNREADABLE, [
      jobs.map((j) => j.id),
      jobs.map((j) => j.extraProperties),
      jobs.map((j) => j.newStamp),
      leaseToken,
    ]);
  }

  async complete(leaseToken: string, ids: string[]): Promise<number> {
    return this.changed('bj_complete', COMPLETE, [ids, leaseToken]);
  }

  async fail(updates: FailedJobUpdate[]): Promise<number> {
    return this.changed('bj_fail', FAIL, [
      updates.map((u) => u.id),
      updates.map((u) => u.leaseToken),
      updates.map((u) => (u.nextTryTime ? toUtcText(u.nextTryTime) : null)),
      updates.map((u) => u.extraProperties),
      updates.map((u) => u.newStamp),
    ]);
  }

  async extendLeases(leaseToken: string, ids: string[], until: Date): Promise<number> {
    return this.changed('bj_extend', EXTEND, [ids, leaseToken, toUtcText(until)]);
  }

  async release(request: ReleaseRequest): Promise<number> {
    return this.changed('bj_release', RELEASE, [
      request.ids,
      request.leaseToken,
      toUtcText(request.now),
      request.newStamp,
      request.undoTry,
    ]);
  }

  async find(id: string): Promise<BackgroundJobRecord | undefined> {
    const [row] = await this.run('bj_find', FIND, [id]);
    return row && recordFromRow(row);
  }

  async count(applicationName?: string | null): Promise<number> {
    const scope = countScope(applicationName);
    const rows = await this.run(`bj_count_${scope}`, COUNT[scope], scope === 'application' ? [applicationName] : []);
    return rows[0].n as number;
  }

  async countDueByJobName(applicationName: string | null, now: Date): Promise<JobNameCount[]> {
    const rows =
      applicationName === null
        ? await this.run('bj_due_by_job_name_null', DUE_BY_JOB_NAME_FOR_NULL_APP, [toUtcText(now)])
        : await this.run('bj_due_by_job_name', DUE_BY_JOB_NAME_FOR_APP, [toUtcText(now), applicationName]);
    return rows.map((r) => ({ jobName: r.JobName as string, count: r.n as number }));
  }

  async ping(): Promise<void> {
    await this.run('bj_ping', PING, []);
  }

  isUnavailable(error: unknown): boolean {
    return isUnavailableError('postgres', error);
  }

  private async run(name: string, text: string, values: unknown[]): Promise<Row[]> {
    return (await this.pool.query({ name, text, values })).rows as Row[];
  }

  /** Runs a write; returns how many rows it changed. */
  private async changed(name: string, text: string, values: unknown[]): Promise<number> {
    return (await this.pool.query({ name, text, values })).rowCount ?? 0;
  }

  async findEnqueueKeys(ids: string[]): Promise<EnqueueKey[]> {
    const rows = await this.run('bj_find_enqueue_keys', FIND_ENQUEUE_KEYS, [ids]);
    return rows.map((r) => ({ id: r.Id as string, fingerprint: r.Fingerprint as string }));
  }

  /** SKIP LOCKED: two workers purging at once take different keys instead of waiting on each other. */
  async deleteEnqueueKeysBefore(time: Date, limit: number): Promise<number> {
    return this.changed('bj_delete_enqueue_keys', DELETE_ENQUEUE_KEYS_BEFORE, [toUtcText(time), limit]);
  }
}

/** One dedicated connection that LISTENs; reconnects with backoff when the server goes away. */
class PostgresWorkNotifier implements WorkNotifier {
  readonly description = 'listen/notify';
  private client?: Client;
  private stopped = false;
  private retryTimer?: NodeJS.Timeout;

  constructor(private readonly pool: Pool) {}

  async subscribe(onWork: () => void, onStateChange: (connected: boolean, error?: unknown) => void): Promise<void> {
    this.stopped = false;
    let delay = 250;
    const connect = async (): Promise<void> => {
      const client = new Client((this.pool as unknown as { options: object }).options);
      client.on('notification', () => onWork());
      client.on('error', () => undefined);
      client.on('end', () => {
        if (this.client !== client || this.stopped) return;
        this.client = undefined;
        onStateChange(false);
        scheduleRetry();
      });
      try {
        await client.connect();
        await client.query(`LISTEN ${NOTIFY_CHANNEL}`);
        this.client = client;
        delay = 250;
        onStateChange(true);
        onWork(); // anything enqueued while we were not listening
      } catch (error) {
        await client.end().catch(() => undefined);
        onStateChange(false, error);
        scheduleRetry();
      }
    };
    const scheduleRetry = () => {
      if (this.stopped) return;
      this.retryTimer = setTimeout(() => void connect(), delay);
      delay = Math.min(delay * 2, 10_000);
    };
    await connect();
  }

  async unsubscribe(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}

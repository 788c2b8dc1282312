import type { Pool } from 'pg';
import { Client } from 'pg';
import { BackgroundJobRecord, ClaimedJob, MAX_TRY_COUNT, recordFromRow } from '../background-job-record';
import {
  ApplicationJobNameCount,
  BackgroundJobStore,
  ClaimRequest,
  CompletedJobUpdate,
  EnqueueBatch,
  EnqueueKey,
  FailedJobUpdate,
  JobNameCount,
  MAX_DUE_APPLICATION_JOB_NAMES,
  MAX_DUE_JOB_NAMES,
  ReleaseRequest,
  TransactionalJobStore,
  WorkNotifier,
} from '../background-job-store';
import { transactionConnectionOf } from '../caller-transaction';
import { renamingConnection } from '../renaming-connection';
import { TableNames } from '../table-names';
import { fromUtcText, toUtcText } from '../sql-time';
import { readClaimedRows, UnreadableJob } from '../unreadable-rows';
import {
  ABP_COLUMNS,
  ABP_TABLE_SHAPE,
  NO_COMPLETION_TIME,
  perShape,
  shapeTag,
  TableShape,
  TableShapeCache,
  tableColumns,
} from '../table-shape';
import { CountScope, countScope, inTransaction, isGuidText, LEASE_STAMP_LIKE, numericLockKey } from './dialect-helpers';
import { isUnavailableError } from './unavailable-errors';
import { NOTIFY_CHANNEL, unused } from './postgres.names';
import { CANCEL_CHANNEL, POSTGRES_CANCELLATIONS_MIGRATION, PostgresCancellations } from './postgres.cancellations';
import { POSTGRES_SCHEDULES_MIGRATION, PostgresSchedules } from './postgres.schedules';
import { PostgresUniqueJobs } from './postgres.unique-jobs';
import { liveAndAbandoned, POSTGRES_ADMIN_MIGRATION, PostgresJobAdminStore } from './postgres.admin';
import { migratePostgres, readPostgresShape } from './postgres.schema';
import { PostgresWorkerHeartbeats } from './postgres.heartbeats';

/**
 * PostgreSQL, through the pg pool TypeORM opens. The table is the one ABP's Npgsql provider makes
 * (timestamp without time zone, holding UTC). Every statement has one fixed text whatever the
 * number of rows, so it is prepared once per connection: lists travel as typed arrays (unnest,
 * ANY), except enqueue's columns, which travel as newline-joined text (see ENQUEUE). Times are
 * sent as UTC text. Enqueues NOTIFY in their own statement, so listening workers wake when the
 * insert commits.
 */

/**
 * Ours, beside ABP's table, run by migrate() after postgres.schema.ts has made or adopted ABP's
 * table and our indexes on it; each `CREATE ... IF NOT EXISTS` runs only while its object is missing.
 */
const MIGRATE = [
  // Ours, beside ABP's: see enqueue-keys.ts.
  `CREATE TABLE IF NOT EXISTS "AbpBackgroundJobEnqueueKeys" (
    "Id" uuid NOT NULL,
    "Fingerprint" character varying(64) NOT NULL,
    "CreationTime" timestamp without time zone NOT NULL,
    CONSTRAINT "PK_AbpBackgroundJobEnqueueKeys" PRIMARY KEY ("Id"))`,
  `CREATE INDEX IF NOT EXISTS "IX_AbpBackgroundJobEnqueueKeys_CreationTime" ON "AbpBackgroundJobEnqueueKeys" ("CreationTime")`,
  // Ours, beside ABP's: the workers' heartbeat table.
  ...POSTGRES_ADMIN_MIGRATION,
  // Ours, beside ABP's: recurring jobs' schedules and requests to cancel held jobs.
  ...POSTGRES_SCHEDULES_MIGRATION,
  ...POSTGRES_CANCELLATIONS_MIGRATION,
];

/**
 * The store's statements for a table of this shape, built once per shape. Named statements list
 * their columns: a prepared `SELECT *` fails with "cached plan must not change result type" once
 * another process (a newer ABP migration) adds a column to the table.
 */
const statementsFor = perShape((shape: TableShape) => {
  const columns = tableColumns(shape);
  const COLUMNS = columns.map((c) => `"${c}"`).join(', ');
  const { live } = liveAndAbandoned(shape);

  /** Complete rows, one typed array per column (all of ABP's), zipped back into rows by unnest. */
  const INSERT = `WITH inserted AS (
    INSERT INTO "AbpBackgroundJobs" (${COLUMNS})
    SELECT ${columns.map((c) => `new_row."${c}"`).join(', ')}
    FROM unnest($1::uuid[], $2::varchar[], $3::varchar[], $4::varchar[], $5::smallint[], $6::timestamp[],
      $7::timestamp[], $8::timestamp[], $9::boolean[], $10::smallint[], $11::timestamp[], $12::text[], $13::varchar[])
      AS new_row(${ABP_COLUMNS.map((c) => `"${c}"`).join(', ')})
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
   * in; ExtraProperties ($12) is always the batch's one value. A column is never the empty text
   * (string_to_array would make no row).
   */
  const values: Record<string, string> = {
    Id: 'new_job.id::uuid',
    ApplicationName: '$1',
    JobName: 'COALESCE(new_job.job_name, $9)',
    JobArgs: 'new_job.job_args',
    TryCount: '0',
    CreationTime: '$2::timestamp',
    NextTryTime: 'COALESCE(new_job.next_try_time, $11)::timestamp',
    LastTryTime: 'NULL',
    IsAbandoned: 'FALSE',
    Priority: 'COALESCE(new_job.priority, $10)::smallint',
    CompletionTime: 'NULL',
    ExtraProperties: '$12::text',
    ConcurrencyStamp: 'new_job.stamp',
  };
  const splitLines = (n: number) => `unnest(string_to_array($${n}::text, E'\\n'))`;
  const ENQUEUE = `WITH inserted AS (
    INSERT INTO "AbpBackgroundJobs" (${COLUMNS})
    SELECT ${columns.map((c) => values[c]).join(', ')}
    FROM ROWS FROM (${splitLines(3)}, ${splitLines(4)}, ${splitLines(5)}, ${splitLines(6)}, ${splitLines(7)}, ${splitLines(8)})
      AS new_job(id, job_name, job_args, priority, next_try_time, stamp)${shape.applicationName ? '' : `\n    WHERE ${unused(1, 'varchar')}`}
    RETURNING 1)
  SELECT pg_notify('${NOTIFY_CHANNEL}', '') FROM (SELECT 1 FROM inserted LIMIT 1) AS any_row`;

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
    WHERE ${appNameClause} AND ${live} AND "NextTryTime" <= $2
      AND "JobName" = ANY($3::varchar[])
    ORDER BY ${shape.applicationName ? '"ApplicationName", ' : ''}"Priority" DESC, "TryCount", "NextTryTime"
    LIMIT $4
    FOR UPDATE SKIP LOCKED)
  UPDATE "AbpBackgroundJobs" AS job
  SET "TryCount" = CASE WHEN job."TryCount" < ${MAX_TRY_COUNT} THEN job."TryCount" + 1 ELSE job."TryCount" END,
    "LastTryTime" = $2, "NextTryTime" = $5, "ConcurrencyStamp" = $6
  FROM due WHERE job.ctid = due.tid AND job.ctid = ANY(ARRAY(SELECT tid FROM due))
  RETURNING job."Id", job."JobName", job."JobArgs", job."TryCount", job."CreationTime"::text AS "CreationTime", job."Priority",
    job."ExtraProperties", due."ConcurrencyStamp" LIKE '${LEASE_STAMP_LIKE}' AS "PreviousLeaseExpired", due."NextTryTime"::text AS "DueTime"`;

  /**
   * Kept rows past their retention, through ABP's index (ApplicationName, CompletionTime, ...); by
   * ctid, as the claim updates. SKIP LOCKED: never waits on a row a claim or a result write holds.
   */
  const deleteCompleted = (appNameClause: string) => `DELETE FROM "AbpBackgroundJobs" WHERE ctid = ANY(ARRAY(
    SELECT ctid FROM "AbpBackgroundJobs" WHERE ${appNameClause} AND "CompletionTime" < $1::timestamp
    LIMIT $2 FOR UPDATE SKIP LOCKED))`;

  /**
   * The claim's due-row filter without its job names: ABP's index (ApplicationName, CompletionTime,
   * IsAbandoned, NextTryTime) reads just the due rows. Groups and orders in the "C" collation, byte
   * order, whatever the column's collation (a nondeterministic one would merge 'Job' and 'job').
   */
  const dueByJobName = (
    appNameClause: string,
  ) => `SELECT "JobName" COLLATE "C" AS "JobName", COUNT(*)::int AS n FROM "AbpBackgroundJobs"
  WHERE ${appNameClause} AND ${live} AND "NextTryTime" <= $1
  GROUP BY "JobName" COLLATE "C" ORDER BY n DESC, "JobName" COLLATE "C" LIMIT ${MAX_DUE_JOB_NAMES}`;
  /** The same rows of every application, grouped per application too (none without the column). */
  const dueByApplication = `SELECT ${shape.applicationName ? '"ApplicationName" COLLATE "C" AS "ApplicationName", ' : ''}"JobName" COLLATE "C" AS "JobName", COUNT(*)::int AS n
  FROM "AbpBackgroundJobs" WHERE ${live} AND "NextTryTime" <= $1
  GROUP BY ${shape.applicationName ? '"ApplicationName" COLLATE "C", ' : ''}"JobName" COLLATE "C"
  ORDER BY n DESC, "JobName" COLLATE "C"${shape.applicationName ? ', "ApplicationName" COLLATE "C" NULLS FIRST' : ''} LIMIT ${MAX_DUE_APPLICATION_JOB_NAMES}`;
  /**
   * The same filter; the ORDER BY names ABP's index column for column (those of it the table has),
   * so the plan is one step of an index-only scan (a MIN() would not use it: the planner does not
   * take IS NULL as fixing a column).
   */
  const oldestDue = (appNameClause: string) => `SELECT "NextTryTime"::text AS "Oldest" FROM "AbpBackgroundJobs"
  WHERE ${appNameClause} AND ${live} AND "NextTryTime" <= $1
  ORDER BY ${[shape.applicationName && '"ApplicationName"', shape.completionTime && '"CompletionTime"', '"IsAbandoned"', '"NextTryTime"'].filter(Boolean).join(', ')} LIMIT 1`;

  // Without ApplicationName every row is every application's: the application's clauses are always true.
  const app = shape.applicationName;
  return {
    ...shape,
    /** Appended to the names of prepared statements, which are per connection and must keep one text. */
    tag: shapeTag(shape),
    INSERT,
    ENQUEUE,
    /**
     * The enqueue of jobs whose caller chose their ids: ENQUEUE, plus the insert of their keys ($13
     * ids, $14 fingerprints, newline-joined as above) in the same statement, so both are written or
     * neither. PostgreSQL runs a data-modifying WITH part to completion though nothing reads it.
     */
    ENQUEUE_KEYED: ENQUEUE.replace(
      /^WITH /,
      `WITH new_key AS (
    INSERT INTO "AbpBackgroundJobEnqueueKeys" ("Id", "Fingerprint", "CreationTime")
    SELECT new_key.id::uuid, new_key.fingerprint, $2::timestamp FROM ROWS FROM (${splitLines(13)}, ${splitLines(14)}) AS new_key(id, fingerprint)),
  `,
    ),
    CLAIM_FOR_APP: claim(app ? '"ApplicationName" = $1' : unused(1, 'varchar')),
    CLAIM_FOR_NULL_APP: claim(app ? '"ApplicationName" IS NULL AND $1::varchar IS NULL' : unused(1, 'varchar')),
    DELETE_COMPLETED_FOR_APP: deleteCompleted(app ? '"ApplicationName" = $3' : unused(3, 'varchar')),
    DELETE_COMPLETED_FOR_NULL_APP: deleteCompleted(app ? '"ApplicationName" IS NULL' : 'TRUE'),
    FIND: `SELECT ${COLUMNS} FROM "AbpBackgroundJobs" WHERE "Id" = $1`,
    COUNT: {
      all: `SELECT COUNT(*)::int AS n FROM "AbpBackgroundJobs"`,
      noApplication: `SELECT COUNT(*)::int AS n FROM "AbpBackgroundJobs" WHERE ${app ? '"ApplicationName" IS NULL' : 'TRUE'}`,
      application: `SELECT COUNT(*)::int AS n FROM "AbpBackgroundJobs" WHERE ${app ? '"ApplicationName" = $1' : unused(1, 'varchar')}`,
    } satisfies Record<CountScope, string>,
    DUE_BY_JOB_NAME_FOR_APP: dueByJobName(app ? '"ApplicationName" = $2' : unused(2, 'varchar')),
    DUE_BY_JOB_NAME_FOR_NULL_APP: dueByJobName(app ? '"ApplicationName" IS NULL' : 'TRUE'),
    DUE_BY_APPLICATION: dueByApplication,
    OLDEST_DUE_FOR_APP: oldestDue(app ? '"ApplicationName" = $2' : unused(2, 'varchar')),
    OLDEST_DUE_FOR_NULL_APP: oldestDue(app ? '"ApplicationName" IS NULL' : 'TRUE'),
  };
});

/** The oldest-due statements on ABP 10.6's table, for the test that checks their plan (test/contract/oldest-due-time.test.ts). */
export const POSTGRES_OLDEST_DUE = {
  forApp: statementsFor(ABP_TABLE_SHAPE).OLDEST_DUE_FOR_APP,
  forNullApp: statementsFor(ABP_TABLE_SHAPE).OLDEST_DUE_FOR_NULL_APP,
};

/** The claim's text on ABP 10.6's table, for the test that checks its plan (test/contract/postgres-claim-plan.test.ts). */
export const POSTGRES_CLAIM = {
  forApp: statementsFor(ABP_TABLE_SHAPE).CLAIM_FOR_APP,
  forNullApp: statementsFor(ABP_TABLE_SHAPE).CLAIM_FOR_NULL_APP,
};

const FIND_ENQUEUE_KEYS = `SELECT "Id", "Fingerprint" FROM "AbpBackgroundJobEnqueueKeys" WHERE "Id" = ANY($1::uuid[])`;
const DELETE_ENQUEUE_KEYS_BEFORE = `DELETE FROM "AbpBackgroundJobEnqueueKeys" WHERE "Id" IN (
  SELECT "Id" FROM "AbpBackgroundJobEnqueueKeys" WHERE "CreationTime" < $1::timestamp ORDER BY "CreationTime" LIMIT $2
  FOR UPDATE SKIP LOCKED)`;

const ABANDON_UNREADABLE = `UPDATE "AbpBackgroundJobs" AS job
  SET "IsAbandoned" = TRUE, "ExtraProperties" = unreadable.extra_properties, "ConcurrencyStamp" = unreadable.new_stamp
  FROM unnest($1::uuid[], $2::text[], $3::varchar[]) AS unreadable(id, extra_properties, new_stamp)
  WHERE job."Id" = unreadable.id AND job."ConcurrencyStamp" = $4`;

const COMPLETE = `DELETE FROM "AbpBackgroundJobs" WHERE "Id" = ANY($1::uuid[]) AND "ConcurrencyStamp" = $2`;

/** StoreSuccessfulJobs: the row stays, completed (never claimed again), under a new stamp. */
const COMPLETE_AND_KEEP = `UPDATE "AbpBackgroundJobs" AS job
  SET "CompletionTime" = done.completion_time, "ExtraProperties" = COALESCE(done.extra_properties, job."ExtraProperties"),
      "ConcurrencyStamp" = done.new_stamp
  FROM unnest($1::uuid[], $2::varchar[], $3::timestamp[], $4::text[], $5::varchar[])
    AS done(id, lease_token, completion_time, extra_properties, new_stamp)
  WHERE job."Id" = done.id AND job."ConcurrencyStamp" = done.lease_token`;

const TRY_LOCK = 'SELECT pg_try_advisory_lock($1::bigint) AS acquired';
const UNLOCK = 'SELECT pg_advisory_unlock($1::bigint)';

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

const PING = 'SELECT 1';

type Row = Record<string, unknown>;

export class PostgresBackgroundJobStore implements BackgroundJobStore {
  readonly dialect = 'postgres' as const;
  readonly notifier: WorkNotifier;
  readonly uniqueJobs: PostgresUniqueJobs;
  readonly schedules: PostgresSchedules;
  readonly cancellations: PostgresCancellations;
  readonly admin: PostgresJobAdminStore;
  readonly heartbeats: PostgresWorkerHeartbeats;

  /** The table's shape (see table-shape.ts): the statements are those built for it. */
  private readonly table: TableShapeCache;

  /**
   * `pool`: TypeORM's pg pool, or (withinTransaction) the client of the caller's transaction;
   * `table`: the shape the store of the pool knows (a transaction's store shares it).
   */
  /** The pool (or client), its statements renamed for `names` (ABP's prefix and schema, see table-names.ts). */
  private readonly pool: Pool;

  constructor(
    pool: Pool,
    table?: TableShapeCache,
    readonly names = new TableNames('postgres'),
  ) {
    this.pool = pool = renamingConnection(pool, names);
    this.table = table ?? new TableShapeCache(() => readPostgresShape((sql) => this.pool.query(sql)));
    this.notifier = new PostgresWorkNotifier(pool, names.channel(NOTIFY_CHANNEL));
    this.admin = new PostgresJobAdminStore(pool, this.table);
    this.heartbeats = new PostgresWorkerHeartbeats(pool);
    this.uniqueJobs = new PostgresUniqueJobs(pool, this.table);
    this.schedules = new PostgresSchedules(pool, this.table);
    this.cancellations = new PostgresCancellations(pool, this.table, names.channel(CANCEL_CHANNEL));
  }

  /**
   * The same statements on the client of the caller's transaction: a job's NOTIFY is sent with
   * them, and PostgreSQL delivers it when that transaction commits (none on rollback).
   */
  withinTransaction(entityManager: object): TransactionalJobStore {
    return new PostgresBackgroundJobStore(
      transactionConnectionOf(entityManager, this.dialect) as Pool,
      this.table,
      this.names,
    );
  }

  async migrate(): Promise<void> {
    const shape = await inTransaction(
      () => this.pool.connect(),
      (client) => migratePostgres(client, MIGRATE, this.names),
    );
    this.table.learned(shape);
  }

  private async statements() {
    return statementsFor(await this.table.shape());
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
    const statements = await this.statements();
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
      batch.extraProperties ?? '{}',
    ];
    if (!batch.keys?.length) {
      await this.run(`bj_enqueue${statements.tag}`, statements.ENQUEUE, values);
      return;
    }
    const keys = batch.keys;
    await this.run(`bj_enqueue_keyed${statements.tag}`, statements.ENQUEUE_KEYED, [
      ...values,
      keys.map((k) => k.id).join('\n'),
      keys.map((k) => k.fingerprint).join('\n'),
    ]);
  }

  async insert(rows: BackgroundJobRecord[]): Promise<void> {
    const column = <T>(value: (row: BackgroundJobRecord) => T) => rows.map(value);
    const time = (value: Date | null) => value && toUtcText(value);
    const statements = await this.statements();
    if (!statements.completionTime && rows.some((r) => r.completionTime !== null)) throw new Error(NO_COMPLETION_TIME);
    await this.run(`bj_insert${statements.tag}`, statements.INSERT, [
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
  async claim(given: ClaimRequest): Promise<ClaimedJob[]> {
    const statements = await this.statements();
    // Without ApplicationName every row is every application's (and has none).
    const request = statements.applicationName ? given : { ...given, applicationName: null };
    const [name, text] =
      request.applicationName === null
        ? [`bj_claim_null${statements.tag}`, statements.CLAIM_FOR_NULL_APP]
        : [`bj_claim${statements.tag}`, statements.CLAIM_FOR_APP];
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

  async completeAndKeep(updates: CompletedJobUpdate[]): Promise<number> {
    if (!(await this.table.shape()).completionTime) throw new Error(NO_COMPLETION_TIME);
    return this.changed('bj_complete_keep', COMPLETE_AND_KEEP, [
      updates.map((u) => u.id),
      updates.map((u) => u.leaseToken),
      updates.map((u) => toUtcText(u.completionTime)),
      updates.map((u) => u.extraProperties),
      updates.map((u) => u.newStamp),
    ]);
  }

  /** Without CompletionTime no row is kept, so none is deleted. */
  async deleteCompletedBefore(applicationName: string | null, before: Date, limit: number): Promise<number> {
    const statements = await this.statements();
    if (!statements.completionTime) return 0;
    return applicationName === null
      ? this.changed(`bj_delete_completed_null${statements.tag}`, statements.DELETE_COMPLETED_FOR_NULL_APP, [
          toUtcText(before),
          limit,
        ])
      : this.changed(`bj_delete_completed${statements.tag}`, statements.DELETE_COMPLETED_FOR_APP, [
          toUtcText(before),
          limit,
          applicationName,
        ]);
  }

  /**
   * A session-level advisory lock on a connection of its own, held while `work` runs (on other
   * connections of the pool). If the unlock fails the connection is closed, which frees the lock.
   * Advisory locks are per database; the name carries the schema and prefix of other tables.
   */
  async tryWithLock<T>(name: string, work: () => Promise<T>): Promise<{ value: T } | undefined> {
    const key = numericLockKey(this.names.lockName(name));
    const client = await this.pool.connect();
    let acquired: boolean;
    try {
      const { rows } = await client.query<{ acquired: boolean }>(TRY_LOCK, [key]);
      acquired = rows[0].acquired;
    } catch (error) {
      client.release(true);
      throw error;
    }
    if (!acquired) {
      client.release();
      return undefined;
    }
    try {
      return { value: await work() };
    } finally {
      const unlocked = await client.query(UNLOCK, [key]).then(
        () => true,
        () => false,
      );
      client.release(!unlocked);
    }
  }

  async hasCompletionTimeColumn(): Promise<boolean> {
    return (await this.table.shape()).completionTime;
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
    // A uuid parameter that is no Guid fails the statement (22P02); no row has such an id.
    if (!isGuidText(id)) return undefined;
    const statements = await this.statements();
    const [row] = await this.run(`bj_find${statements.tag}`, statements.FIND, [id]);
    return row && recordFromRow(row);
  }

  async count(applicationName?: string | null): Promise<number> {
    const scope = countScope(applicationName);
    const statements = await this.statements();
    const rows = await this.run(
      `bj_count_${scope}${statements.tag}`,
      statements.COUNT[scope],
      scope === 'application' ? [applicationName] : [],
    );
    return rows[0].n as number;
  }

  async countDueByJobName(applicationName: string | null, now: Date): Promise<JobNameCount[]> {
    const statements = await this.statements();
    const rows =
      applicationName === null
        ? await this.run(`bj_due_by_job_name_null${statements.tag}`, statements.DUE_BY_JOB_NAME_FOR_NULL_APP, [
            toUtcText(now),
          ])
        : await this.run(`bj_due_by_job_name${statements.tag}`, statements.DUE_BY_JOB_NAME_FOR_APP, [
            toUtcText(now),
            applicationName,
          ]);
    return rows.map((r) => ({ jobName: r.JobName as string, count: r.n as number }));
  }

  async countDueByApplication(now: Date): Promise<ApplicationJobNameCount[]> {
    const statements = await this.statements();
    const rows = await this.run(`bj_due_by_application${statements.tag}`, statements.DUE_BY_APPLICATION, [
      toUtcText(now),
    ]);
    return rows.map((r) => ({
      ...(statements.applicationName ? { applicationName: r.ApplicationName as string | null } : {}),
      jobName: r.JobName as string,
      count: r.n as number,
    }));
  }

  async oldestDueTime(applicationName: string | null, now: Date): Promise<Date | null> {
    const statements = await this.statements();
    const [row] =
      applicationName === null
        ? await this.run(`bj_oldest_due_null${statements.tag}`, statements.OLDEST_DUE_FOR_NULL_APP, [toUtcText(now)])
        : await this.run(`bj_oldest_due${statements.tag}`, statements.OLDEST_DUE_FOR_APP, [
            toUtcText(now),
            applicationName,
          ]);
    return row ? fromUtcText(row.Oldest as string) : null;
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

/**
 * One dedicated connection that LISTENs on one channel (new work, by default) and hands each
 * notification's payload on; reconnects with backoff when the server goes away.
 */
export class PostgresWorkNotifier implements WorkNotifier {
  readonly description = 'listen/notify';
  private client?: Client;
  private stopped = false;
  private retryTimer?: NodeJS.Timeout;

  constructor(
    private readonly pool: Pool,
    private readonly channel = NOTIFY_CHANNEL,
  ) {}

  async subscribe(
    onWork: (payload?: string) => void,
    onStateChange: (connected: boolean, error?: unknown) => void,
  ): Promise<void> {
    this.stopped = false;
    let delay = 250;
    const connect = async (): Promise<void> => {
      const client = new Client((this.pool as unknown as { options: object }).options);
      client.on('notification', (message) => onWork(message.payload));
      client.on('error', () => undefined);
      client.on('end', () => {
        if (this.client !== client || this.stopped) return;
        this.client = undefined;
        onStateChange(false);
        scheduleRetry();
      });
      try {
        await client.connect();
        await client.query(`LISTEN ${this.channel}`);
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

import type { DatabaseProvider } from '../connection/database-provider';
import { BackgroundJobRecord, ClaimedJob } from './background-job-record';
import type { SequentialGuidLayout } from './stamps';
import type { JobCancellationStore } from './job-cancellation-store';
import type { ScheduleStore } from './schedule-store';
import type { UniqueJobStore } from './unique-job-store';
import type { JobAdminStore, WorkerHeartbeatStore } from './job-admin-store';

/** New jobs from one enqueue call: what varies per job, and what they share. */
export interface EnqueueBatch {
  applicationName: string | null;
  creationTime: Date;
  jobs: Array<{
    id: string;
    jobName: string;
    jobArgs: string;
    priority: number;
    nextTryTime: Date;
    concurrencyStamp: string;
  }>;
  /**
   * The keys of the jobs whose caller chose their id: written with the rows, all or none, at
   * `creationTime`. Absent or empty, the enqueue writes the rows alone.
   */
  keys?: EnqueueKey[];
  /**
   * The ExtraProperties JSON of every row of the batch (ABP's extra-properties dictionary, e.g. a
   * W3C traceparent); absent: '{}'.
   */
  extraProperties?: string;
}

/**
 * What a caller-chosen job id was used for, kept in a table of its own after the job's row is
 * gone (see enqueue-keys.ts), so a repeat of the enqueue is recognised once the job has run.
 */
export interface EnqueueKey {
  /** The job's id, in lower case. */
  id: string;
  /** enqueueFingerprint() of the job's name and args. */
  fingerprint: string;
}

/** The rows an enqueue writes: TryCount 0, not abandoned, no last try or completion, the batch's ExtraProperties or '{}'. */
export function recordsOf(batch: EnqueueBatch): BackgroundJobRecord[] {
  return batch.jobs.map((job) => ({
    ...job,
    applicationName: batch.applicationName,
    tryCount: 0,
    creationTime: batch.creationTime,
    lastTryTime: null,
    isAbandoned: false,
    completionTime: null,
    extraProperties: batch.extraProperties ?? '{}',
  }));
}

export interface ClaimRequest {
  applicationName: string | null;
  /** Only rows of these job names are claimed; others are never touched. */
  jobNames: string[];
  limit: number;
  now: Date;
  /** The row stays hidden from other workers until then. */
  leaseUntil: Date;
  /** Written to ConcurrencyStamp; completion and failure must present it. */
  leaseToken: string;
}

export interface FailedJobUpdate {
  id: string;
  leaseToken: string;
  /** Null: abandon the row. */
  nextTryTime: Date | null;
  extraProperties: string;
  newStamp: string;
}

/**
 * A succeeded job whose row is kept (StoreSuccessfulJobs), as ABP 10 keeps it: CompletionTime set,
 * never claimed again, until the cleanup deletes it.
 */
export interface CompletedJobUpdate {
  id: string;
  leaseToken: string;
  completionTime: Date;
  /** The bag with the job's result; null leaves ExtraProperties as it is. */
  extraProperties: string | null;
  newStamp: string;
}

export interface ReleaseRequest {
  leaseToken: string;
  ids: string[];
  now: Date;
  newStamp: string;
  /** The released rows never started here, so their claim does not count as a try. */
  undoTry: boolean;
}

/** How many due rows carry one job name. */
export interface JobNameCount {
  jobName: string;
  count: number;
}

/** The most job names countDueByJobName() returns: a bound on the answer, however many names the table holds. */
export const MAX_DUE_JOB_NAMES = 100;

/** How many due rows of one application carry one job name. */
export interface ApplicationJobNameCount extends JobNameCount {
  /**
   * The rows' ApplicationName, exactly as stored (null: none). Absent on a table without the
   * ApplicationName column (older ABP), where every row is every application's: any worker claims it.
   */
  applicationName?: string | null;
}

/** The most groups countDueByApplication() returns: a bound on the answer, however many the table holds. */
export const MAX_DUE_APPLICATION_JOB_NAMES = 1000;

/**
 * Notifications of new work, where the database can push them (PostgreSQL's LISTEN/NOTIFY) or its
 * file can be watched (SQLite's WAL file, for processes on the same machine).
 */
export interface WorkNotifier {
  /** How wake-ups arrive, for the worker's start line: 'listen/notify', 'wal-file-watch'. */
  readonly description: string;
  /**
   * Calls `onWork` when a job is enqueued anywhere (with the notification's payload, if any; none
   * after a reconnect, when anything may have been missed); resolves once listening.
   */
  subscribe(
    onWork: (payload?: string) => void,
    onStateChange: (connected: boolean, error?: unknown) => void,
  ): Promise<void>;
  unsubscribe(): Promise<void>;
}

/**
 * Everything the module asks of a database, in one database-agnostic interface (BullMQ's
 * queue-backend shape): no connection or transaction type shows. One implementation per dialect.
 * Writes that take a lease token change a row only while its ConcurrencyStamp still equals it, so
 * a worker whose lease was taken over can neither delete nor overwrite the new owner's claim.
 */
export interface BackgroundJobStore {
  /** The database behind the store; 'memory' for the in-process store. */
  readonly dialect: DatabaseProvider | 'memory';
  /**
   * Where new job ids keep their time so that they ascend in this database's order of its key
   * (see SequentialGuidLayout); UUIDv7 when absent.
   */
  readonly guidLayout?: SequentialGuidLayout;
  /**
   * Creates ABP 10.6's table and index where there is none, or adopts ABP's as it is (adding none of
   * ABP's columns or indexes: see table-shape.ts), then our own indexes on it and our tables beside
   * it. Serialised across processes; sends no DDL where everything is in place.
   */
  migrate(): Promise<void>;
  /** Writes new jobs (the manager's path); all or none. */
  enqueue(batch: EnqueueBatch): Promise<void>;
  /** Writes complete rows as given (imports, tools, tests); all or none. */
  insert(rows: BackgroundJobRecord[]): Promise<void>;
  claim(request: ClaimRequest): Promise<ClaimedJob[]>;
  /** Deletes the rows; returns how many were still held. */
  complete(leaseToken: string, ids: string[]): Promise<number>;
  /** StoreSuccessfulJobs' complete: keeps the rows, marked completed; returns how many were still held. */
  completeAndKeep(updates: CompletedJobUpdate[]): Promise<number>;
  /**
   * Deletes at most `limit` kept rows of one application (null: of none) whose CompletionTime is
   * before `before`, skipping rows another statement holds; returns how many it deleted. Live rows
   * are never touched.
   */
  deleteCompletedBefore(applicationName: string | null, before: Date, limit: number): Promise<number>;
  /**
   * Runs `work` while this store holds the database lock `name`, which one holder at a time has
   * across all processes using these tables (stores of other tables, another prefix or schema or
   * database, have their own; PostgreSQL: an advisory lock; MySQL: GET_LOCK; SQL Server: sp_getapplock;
   * SQLite: a lock row; memory: per store). Resolves undefined at once, without running `work`,
   * while another holds it. A holder that dies frees it: the lock goes with its connection (SQLite's
   * lock row expires a minute after its holder last renewed it).
   */
  tryWithLock<T>(name: string, work: () => Promise<T>): Promise<{ value: T } | undefined>;
  /** False for a table made by ABP before 10.6, which lacks its CompletionTime column (see table-shape.ts). */
  hasCompletionTimeColumn(): Promise<boolean>;
  /** Writes retries or abandonment; returns how many were still held. */
  fail(updates: FailedJobUpdate[]): Promise<number>;
  /** Pushes NextTryTime out to `until` for the rows still held. */
  extendLeases(leaseToken: string, ids: string[], until: Date): Promise<number>;
  /** Makes held rows due at once for any worker. */
  release(request: ReleaseRequest): Promise<number>;
  /** Reads one row; for operators and tests. */
  find(id: string): Promise<BackgroundJobRecord | undefined>;
  /** Counts all rows (no argument), the rows of no application (null), or the rows of one. */
  count(applicationName?: string | null): Promise<number>;
  /**
   * The rows of one application (null: of none) that a claim would take at `now` if it asked for
   * every name (live, not abandoned, NextTryTime reached; a row under an unexpired lease is not
   * due), counted per job name exactly as stored: names that differ only in case or trailing
   * spaces are counted apart, whatever the column's collation. The MAX_DUE_JOB_NAMES names with
   * the most rows, most first, ties in binary order of the name. For logs, dashboards and gauges.
   */
  countDueByJobName(applicationName: string | null, now: Date): Promise<JobNameCount[]>;
  /**
   * countDueByJobName() for every application at once: the due rows counted per application and
   * job name, both exactly as stored. The MAX_DUE_APPLICATION_JOB_NAMES groups with the most rows,
   * most first, ties in binary order of the job name, then of the application's (none first). For
   * the dashboard's rows that no live worker runs.
   */
  countDueByApplication(now: Date): Promise<ApplicationJobNameCount[]>;
  /**
   * The earliest NextTryTime among the rows countDueByJobName counts (null: none is due): how long
   * the oldest waiting job has waited. One seek on ABP's index, however many rows wait; for gauges.
   */
  oldestDueTime(applicationName: string | null, now: Date): Promise<Date | null>;
  /** Resolves when the database answers a constant query; for liveness probes (no table is read). */
  ping(): Promise<void>;
  readonly notifier?: WorkNotifier;
  /** True when the error means the database could not be reached (worth a retry), not a bad statement. */
  isUnavailable(error: unknown): boolean;
  /** The enqueue keys of those of these ids that have one, ids in lower case, in no particular order. */
  findEnqueueKeys(ids: string[]): Promise<EnqueueKey[]>;
  /** Deletes at most `limit` enqueue keys created before `time`, oldest first; returns how many it deleted. */
  deleteEnqueueKeysBefore(time: Date, limit: number): Promise<number>;
  /** The writes of unique jobs (see unique-job-store.ts). */
  readonly uniqueJobs: UniqueJobStore;
  /** Recurring jobs' schedules, in AbpBackgroundJobSchedules (ours, beside ABP's table; migrate() makes it). */
  readonly schedules: ScheduleStore;
  /** Cancel's writes, and its requests in AbpBackgroundJobCancellations (ours; migrate() makes it). */
  readonly cancellations: JobCancellationStore;
  /**
   * This store's enqueue writes on the caller's running transaction, so the job rows commit or roll
   * back with the caller's own rows: `entityManager` is a TypeORM EntityManager of a transaction
   * (inside `dataSource.transaction(...)`, or a QueryRunner's manager after startTransaction()) on
   * this store's database. Throws when it is not in a transaction or the store has no transactions
   * (the in-memory store).
   */
  withinTransaction(entityManager: object): TransactionalJobStore;
  /** What the management service (BackgroundJobsAdmin) asks: counts, lists and actions by state. */
  readonly admin: JobAdminStore;
  /** The workers' heartbeats, in AbpBackgroundJobWorkers (ours, beside ABP's table; migrate() makes it). */
  readonly heartbeats: WorkerHeartbeatStore;
}

/** What an enqueue writes and reads inside the caller's transaction. */
export type TransactionalJobStore = Pick<BackgroundJobStore, 'dialect' | 'enqueue' | 'uniqueJobs'>;

export const BACKGROUND_JOB_STORE = Symbol('BackgroundJobStore');

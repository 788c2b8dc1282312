import type { JobState } from '../admin/background-jobs-admin.types';
import type { BackgroundJobRecord } from './background-job-record';
import { fromUtcText } from './sql-time';

/**
 * What the management service (BackgroundJobsAdmin) asks of a database, beside the worker's
 * BackgroundJobStore: counts and lists by state, and actions that refuse rows a worker holds. One
 * implementation per dialect (store/dialects/*.admin.ts) and one in memory.
 *
 * A row's state at `now` (each row is in exactly one; see admin/job-states.ts for the same rules
 * in TypeScript):
 * - succeeded: CompletionTime set (rows kept by StoreSuccessfulJobs);
 * - abandoned: IsAbandoned;
 * - processing: held by a live lease, i.e. ConcurrencyStamp is a lease stamp ('lease:%') and
 *   NextTryTime (the lease's end) is after `now`;
 * - retrying: TryCount >= 1; scheduled: TryCount 0 and NextTryTime after `now`; waiting: the rest.
 *
 * Every action is one statement (or, on MySQL, one transaction) whose WHERE holds the state it
 * needs and the lease test, so a row a claim takes between the caller's read and the write is
 * never touched: no action can make a job run twice.
 */
export interface JobAdminStore {
  /**
   * Rows per job name and state at `now`. Exact when the table holds at most `exactUpTo` rows; in
   * a bigger table, the database's estimate (marked `estimated`), except for the small states
   * (SMALL_STATE_ROWS, see state-counts.ts), still exact. States with no rows are left out.
   */
  countStates(now: Date, exactUpTo: number): Promise<StateCount[]>;
  /** One page of a state, in the state's order (see LIST_ORDER), after `after` when given. */
  list(request: AdminListRequest): Promise<ListedJob[]>;
  /** The rows of these ids that exist (ids in any case), without their args: enough to tell their state. */
  read(ids: string[]): Promise<JobStateRow[]>;
  /**
   * Makes abandoned and retrying rows new again (due `now`, IsAbandoned false, TryCount 0), each
   * only while its ConcurrencyStamp is still `expectedStamp` and no live lease holds it. Returns
   * the ids (lower case) it changed.
   */
  requeue(updates: RequeueUpdate[], now: Date): Promise<string[]>;
  /** Makes scheduled rows (not held, TryCount 0, NextTryTime after `now`) due `now`; returns the ids changed. */
  runNow(ids: string[], now: Date, newStamp: string): Promise<string[]>;
  /** Deletes the rows no live lease holds; returns the ids deleted. */
  delete(ids: string[], now: Date): Promise<string[]>;
  /**
   * Per minute from `since`, the rows that completed in it (CompletionTime) and the rows whose
   * last try in it failed (not completed, not held, TryCount >= 1 or abandoned, LastTryTime in it).
   * Minutes with neither are left out.
   */
  history(since: Date, now: Date): Promise<HistoryCount[]>;
}

export interface StateCount {
  jobName: string;
  state: JobState;
  count: number;
  estimated: boolean;
}

/**
 * The order of each state's list: live rows next-due first (NextTryTime, then Id); abandoned
 * rows newest first (CreationTime, then Id, descending); succeeded rows last completed first.
 */
export const LIST_ORDER: Record<
  JobState,
  { column: 'NextTryTime' | 'CreationTime' | 'CompletionTime'; descending: boolean }
> = {
  waiting: { column: 'NextTryTime', descending: false },
  scheduled: { column: 'NextTryTime', descending: false },
  retrying: { column: 'NextTryTime', descending: false },
  processing: { column: 'NextTryTime', descending: false },
  abandoned: { column: 'CreationTime', descending: true },
  succeeded: { column: 'CompletionTime', descending: true },
};

/** Where a page ends: the sort column's value and the Id, exactly as the database holds them (text). */
export interface ListPosition {
  time: string;
  id: string;
}

export interface AdminListRequest {
  state: JobState;
  now: Date;
  jobName?: string;
  /** Undefined: any application; null: rows with no ApplicationName. */
  applicationName?: string | null;
  limit: number;
  after?: ListPosition;
}

/** Lists cut JobArgs to this many characters (a page of 1 MB args would be 50 MB); get() reads them whole. */
export const LISTED_ARGS_LENGTH = 2000;

export interface ListedJob {
  record: BackgroundJobRecord;
  /** The row's place in the list, for the next page's cursor. */
  position: ListPosition;
  /** True when record.jobArgs holds only the first LISTED_ARGS_LENGTH characters. */
  jobArgsTruncated: boolean;
}

/** What tells a row's state, and what a requeue rewrites. */
export type JobStateRow = Pick<
  BackgroundJobRecord,
  'id' | 'tryCount' | 'nextTryTime' | 'isAbandoned' | 'completionTime' | 'concurrencyStamp' | 'extraProperties'
>;

export interface RequeueUpdate {
  id: string;
  /** The ConcurrencyStamp the caller read: the write happens only while the row still has it. */
  expectedStamp: string;
  extraProperties: string;
  newStamp: string;
}

export interface HistoryCount {
  /** The minute's start. */
  minute: Date;
  succeeded: number;
  failed: number;
}

/** One worker process's heartbeat row, in AbpBackgroundJobWorkers (a table of ours beside ABP's). */
export interface WorkerHeartbeatRow {
  /** A UUID the worker picks at start. */
  id: string;
  host: string;
  pid: number;
  applicationName: string | null;
  jobNames: string[];
  maxParallel: number;
  running: number;
  startedAt: Date;
  lastHeartbeat: Date;
}

/** The heartbeat table: written by every worker every few seconds, read by the management service. */
export interface WorkerHeartbeatStore {
  /** Writes the worker's row (inserted the first time, updated after). */
  beat(heartbeat: WorkerHeartbeatRow): Promise<void>;
  /** Deletes the worker's row (graceful stop). */
  remove(id: string): Promise<void>;
  /** Deletes rows whose last heartbeat is before `time` (workers that died); returns how many. */
  prune(time: Date): Promise<number>;
  /** Rows whose last heartbeat is at or after `since`, newest heartbeat first. */
  live(since: Date): Promise<WorkerHeartbeatRow[]>;
}

/** A heartbeat row as any driver returns it (times as Dates or UTC text, JobNames as JSON). */
export function heartbeatFromRow(row: Record<string, unknown>): WorkerHeartbeatRow {
  return {
    id: String(row.Id).toLowerCase(),
    host: row.Host as string,
    pid: Number(row.Pid),
    applicationName: (row.ApplicationName as string | null) ?? null,
    jobNames: JSON.parse(row.JobNames as string) as string[],
    maxParallel: Number(row.MaxParallel),
    running: Number(row.Running),
    startedAt: fromUtcText(row.StartedAt as string | Date)!,
    lastHeartbeat: fromUtcText(row.LastHeartbeat as string | Date)!,
  };
}

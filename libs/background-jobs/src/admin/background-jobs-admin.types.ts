/**
 * What the management service (`BackgroundJobsAdmin`) offers: the one API the dashboard, the JSON
 * API and the CLI are thin fronts on. None of those fronts writes SQL; the service asks the store.
 */

/** Each row is in exactly one state. */
export const JOB_STATES = ['waiting', 'scheduled', 'retrying', 'processing', 'abandoned', 'succeeded'] as const;
export type JobState = (typeof JOB_STATES)[number];

/** A count per state. `succeeded` is null when succeeded rows are not kept (StoreSuccessfulJobs off). */
export interface StateCounts {
  waiting: number;
  scheduled: number;
  retrying: number;
  processing: number;
  abandoned: number;
  succeeded: number | null;
}

export interface JobStats extends StateCounts {
  byJobName: Record<string, StateCounts>;
  /** True when a count above the exact-count bound is the database's estimate (shown as "~1.2M"). */
  estimated: boolean;
}

export interface JobListQuery {
  state: JobState;
  jobName?: string;
  /** Undefined: any application; null: rows with no ApplicationName. */
  applicationName?: string | null;
  /** 1..500; default 50. */
  limit?: number;
  /** The `next` cursor of the previous page (opaque to callers). */
  after?: string;
}

/** One row as the fronts show it: the table's columns in camelCase, times as ISO text, plus its state. */
export interface JobView {
  id: string;
  applicationName: string | null;
  jobName: string;
  jobArgs: string;
  tryCount: number;
  creationTime: string;
  nextTryTime: string;
  lastTryTime: string | null;
  isAbandoned: boolean;
  priority: number;
  completionTime: string | null;
  extraProperties: string;
  concurrencyStamp: string;
  state: JobState;
  /** Set by list() when jobArgs holds only the start of the args (2,000 characters); get() returns them whole. */
  jobArgsTruncated?: true;
}

export interface JobListPage {
  items: JobView[];
  /** Cursor of the next page, or null on the last one. */
  next: string | null;
}

/** Who asked for an action, for its log line: a user name or a remote address. */
export interface Actor {
  name: string;
}

/** What an action did, per id: done, refused because a worker holds the row, or not found / not in a state it applies to. */
export interface ActionResult {
  done: string[];
  held: string[];
  missing: string[];
}

/** A selection by state instead of ids, e.g. "all abandoned of job name X". */
export interface JobSelection {
  state: JobState;
  jobName?: string;
}

/** One live worker, from its heartbeat row. */
export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  applicationName: string | null;
  jobNames: string[];
  maxParallel: number;
  running: number;
  startedAt: string;
  lastHeartbeat: string;
}

/** Due rows of one application and job name that no live worker runs. */
export interface JobNameNoWorkerRuns {
  /** Exactly as stored; null: rows of no application (or a table without the column). */
  applicationName: string | null;
  /** Exactly as stored: a trailing space or a case variant is its own entry. */
  jobName: string;
  count: number;
}

/**
 * Due rows (what a claim would take: live, not abandoned, not held, NextTryTime reached) whose
 * job name no live worker of their application runs: ABP leaves them alone, so they wait for ever.
 */
export interface UnrunJobNames {
  /** Workers whose heartbeat is recent; with none, nothing is listed (every name would be). */
  liveWorkers: number;
  /** Most rows first. */
  jobNamesNoWorkerRuns: JobNameNoWorkerRuns[];
}

/** Jobs that ended in one minute of the last hour (only once succeeded rows are kept). */
export interface HistoryPoint {
  minute: string;
  succeeded: number;
  failed: number;
}

/** A query or action the service refuses as given: a bad state, cursor, limit or selection (HTTP 400, CLI exit 2). */
export class AdminInputError extends Error {
  override readonly name = 'AdminInputError';
}

/**
 * The management service, also its Nest injection token (BackgroundJobsModule provides the
 * implementation). Actions never touch a row a worker holds (a live lease): those ids come back
 * in `held`. Every action writes one log line: who, what, which ids.
 */
export abstract class BackgroundJobsAdmin {
  abstract stats(): Promise<JobStats>;
  abstract list(query: JobListQuery): Promise<JobListPage>;
  abstract get(id: string): Promise<JobView | undefined>;
  /** Abandoned or retrying rows: due now, IsAbandoned false, TryCount 0, LastError kept in ExtraProperties history. */
  abstract requeue(ids: string[], actor: Actor): Promise<ActionResult>;
  abstract requeueWhere(selection: JobSelection, actor: Actor): Promise<ActionResult>;
  /** Scheduled rows: due now. */
  abstract runNow(ids: string[], actor: Actor): Promise<ActionResult>;
  abstract delete(ids: string[], actor: Actor): Promise<ActionResult>;
  abstract deleteWhere(selection: JobSelection, actor: Actor): Promise<ActionResult>;
  /** Workers whose heartbeat is recent, newest first. */
  abstract workers(): Promise<WorkerInfo[]>;
  /** Due rows of job names no live worker of their application runs (a worker claims only its application's rows). */
  abstract unrunJobNames(): Promise<UnrunJobNames>;
  /** Per minute of the last hour; null while succeeded rows are not kept. */
  abstract history(): Promise<HistoryPoint[] | null>;
}

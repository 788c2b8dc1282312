import type { BackgroundJobRecord } from './background-job-record';

/** A new job's args, priority and due time for a unique job that is waiting (onConflict 'replace'). */
export interface UniqueJobReplacement {
  id: string;
  jobArgs: string;
  priority: number;
  nextTryTime: Date;
  /** The row's new ConcurrencyStamp. */
  newStamp: string;
}

/**
 * The statements of unique jobs (see unique-enqueue.ts): their id is derived from the job name and
 * key, so the primary key keeps one unfinished job per key; these writes let the manager settle a
 * taken id without a lock held across calls. None of them fails on a taken id, so they also run in
 * the caller's transaction without aborting it (PostgreSQL aborts a transaction on any error).
 */
export interface UniqueJobStore {
  /**
   * The row of this id as last committed (id in any case): in the caller's transaction too, whose
   * snapshot may be older than a row another transaction just committed (MySQL's REPEATABLE READ).
   */
  current(id: string): Promise<BackgroundJobRecord | undefined>;
  /** Writes the row unless a row has its id; true when it wrote it (and, on PostgreSQL, notified workers). */
  insertIfAbsent(row: BackgroundJobRecord): Promise<boolean>;
  /**
   * Gives a finished row (abandoned, or completed and kept) of this id the id `newId`, freeing the
   * id for a new job; the row keeps everything else. True when it moved one.
   */
  moveFinished(id: string, newId: string): Promise<boolean>;
  /**
   * Writes new args, priority, due time and stamp on a live row that no live lease holds at `now`
   * (TryCount and ExtraProperties stay); true when it changed it. A running job is left alone.
   */
  replaceWaiting(replacement: UniqueJobReplacement, now: Date): Promise<boolean>;
}

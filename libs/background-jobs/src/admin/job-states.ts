import { isLeaseStamp } from '../store/background-job-record';
import type { JobStateRow } from '../store/job-admin-store';
import { AdminInputError, JOB_STATES, JobState } from './background-jobs-admin.types';

/**
 * A row's state at `now`, by the rules the dialects write in SQL (store/job-admin-store.ts):
 * succeeded, abandoned, processing (a live lease), retrying, scheduled, waiting, first match wins.
 */
export function stateOf(row: JobStateRow, now: Date): JobState {
  if (row.completionTime !== null) return 'succeeded';
  if (row.isAbandoned) return 'abandoned';
  if (isHeld(row, now)) return 'processing';
  if (row.tryCount >= 1) return 'retrying';
  return row.nextTryTime.getTime() > now.getTime() ? 'scheduled' : 'waiting';
}

/** A worker holds the row: a lease stamp whose lease (NextTryTime) has not ended. */
export function isHeld(row: Pick<JobStateRow, 'concurrencyStamp' | 'nextTryTime'>, now: Date): boolean {
  return isLeaseStamp(row.concurrencyStamp) && row.nextTryTime.getTime() > now.getTime();
}

/** States a requeue applies to. */
export const REQUEUE_STATES: readonly JobState[] = ['abandoned', 'retrying'];
/** States run-now applies to. */
export const RUN_NOW_STATES: readonly JobState[] = ['scheduled'];
/** States delete applies to: all but processing (a worker holds those rows). */
export const DELETE_STATES: readonly JobState[] = JOB_STATES.filter((s) => s !== 'processing');

/** The state as given, or AdminInputError naming the ones there are. */
export function parseState(value: unknown, allowed: readonly JobState[] = JOB_STATES): JobState {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as JobState;
  throw new AdminInputError(
    `Unknown state ${JSON.stringify(value)}: use one of ${allowed.join(', ')}` +
      (allowed.length < JOB_STATES.length ? ' for this action' : ''),
  );
}

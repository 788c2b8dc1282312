import { JOB_STATES, JobState } from '../admin/background-jobs-admin.types';
import type { JobNameCount } from './background-job-store';
import type { StateCount } from './job-admin-store';

/** What a dialect gives countStates(): four queries, the rule that combines them is here (no SQL). */
export interface StateCountQueries {
  /** Rows in the table, counted up to `limit` (a bound, so a big table costs no more than `limit` rows). */
  rowsUpTo(limit: number): Promise<number>;
  /** Every row's state, counted per job name: one pass over the table. */
  countAll(): Promise<StateCount[]>;
  /** The database's estimate per job name and state (a sample, or the planner's statistics). */
  estimate(): Promise<StateCount[]>;
  /** One state's rows per job name, exact, reading at most `limit` + 1 rows; undefined when there are more. */
  countState(state: JobState, limit: number): Promise<JobNameCount[] | undefined>;
}

/**
 * In a table too big to count exactly, a state the estimate puts at no more than this many rows
 * is still counted exactly: reading that many index entries costs a few milliseconds, and the
 * small states are the ones an operator looks for (a few abandoned, the processing).
 */
export const SMALL_STATE_ROWS = 10_000;

/**
 * Exact counts while the table holds at most `exactUpTo` rows. In a bigger table, each state
 * starts from the estimate; a state estimated at no more than SMALL_STATE_ROWS (or `exactUpTo`,
 * if less) is then counted exactly through its own index, and keeps its estimate only if it turns
 * out bigger.
 */
export async function countStatesBounded(queries: StateCountQueries, exactUpTo: number): Promise<StateCount[]> {
  if ((await queries.rowsUpTo(exactUpTo + 1)) <= exactUpTo) return queries.countAll();
  const estimates = await queries.estimate();
  const small = Math.min(exactUpTo, SMALL_STATE_ROWS);
  const counts: StateCount[] = [];
  for (const state of JOB_STATES) {
    const estimated = estimates.filter((c) => c.state === state && c.count > 0);
    const total = estimated.reduce((sum, c) => sum + c.count, 0);
    const exact = total <= small ? await queries.countState(state, small) : undefined;
    if (exact) counts.push(...exact.filter((c) => c.count > 0).map((c) => ({ ...c, state, estimated: false })));
    else counts.push(...estimated.map((c) => ({ ...c, count: Math.round(c.count), estimated: true })));
  }
  return counts;
}

/** Rows of a sample, scaled to the table: `scale` is the table's rows per sampled row. */
export function scaleSample(
  rows: Array<{ jobName: string; state: string; n: number | string }>,
  scale: number,
): StateCount[] {
  return rows.map((r) => ({
    jobName: r.jobName,
    state: r.state as JobState,
    count: Number(r.n) * scale,
    estimated: true,
  }));
}

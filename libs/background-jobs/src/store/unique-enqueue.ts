import type { BackgroundJobRecord } from './background-job-record';
import type { TransactionalJobStore } from './background-job-store';
import { isFinished, isHeldAt } from './row-state';

/** What to do when the unique key has an unfinished job already. */
export type UniqueConflict = 'keep' | 'replace';

/**
 * What a unique enqueue did:
 * - 'enqueued': no unfinished job had the key; this one was written;
 * - 'kept': one had it (waiting, or running), and is left as it is (onConflict 'keep');
 * - 'replaced': one was waiting, and now carries the new args, priority and due time;
 * - 'running': one was running (a worker holds it), so it is left alone and the new args are not
 *   queued (onConflict 'replace'); enqueue again once it has finished.
 */
export type UniqueEnqueueOutcome = 'enqueued' | 'kept' | 'replaced' | 'running';

/** Each round ends in an outcome unless another process changed the row in between; this many rounds at most. */
const MAX_ROUNDS = 8;

/** Extra properties a unique job's row carries, so dashboards and people can tell it by its key. */
export const UNIQUE_KEY_PROPERTY = 'UniqueKey';

/**
 * Enqueues `row`, whose id the caller derived from its job name and unique key (uniqueJobId), so
 * that the primary key holds at most one unfinished job per key, across every process. No lock
 * is held between the statements: each round is an insert that passes over a taken id, then a
 * look at what has the id, then one conditional write; a round whose write found the row changed
 * (claimed, finished, deleted) starts again. A finished row (abandoned, or completed and kept)
 * frees the key: it moves to a fresh id (`newId()`) and keeps its history.
 */
export async function enqueueUnique(
  store: TransactionalJobStore,
  row: BackgroundJobRecord,
  onConflict: UniqueConflict,
  newId: () => string,
): Promise<UniqueEnqueueOutcome> {
  const jobs = store.uniqueJobs;
  for (let round = 1; round <= MAX_ROUNDS; round++) {
    if (await jobs.insertIfAbsent(row)) return 'enqueued';
    const existing = await jobs.current(row.id);
    if (!existing) continue; // it finished and was deleted in between
    if (isFinished(existing)) {
      await jobs.moveFinished(row.id, newId());
      continue;
    }
    if (onConflict === 'keep') return 'kept';
    const now = new Date();
    const replacement = {
      id: row.id,
      jobArgs: row.jobArgs,
      priority: row.priority,
      nextTryTime: row.nextTryTime,
      newStamp: row.concurrencyStamp,
    };
    if (await jobs.replaceWaiting(replacement, now)) return 'replaced';
    const after = await jobs.current(row.id);
    if (after && !isFinished(after) && isHeldAt(after, now)) return 'running';
  }
  throw new Error(
    `The unique job ${row.id} kept changing while it was enqueued (other processes wrote it each time); try again`,
  );
}

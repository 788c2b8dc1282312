import { hostname } from 'node:os';
import type { BackgroundJobStore } from '../store/background-job-store';
import { isFinished, isHeldAt } from '../store/row-state';
import { newConcurrencyStamp } from '../store/stamps';
import { withLastError } from '../worker/last-error';
import { CANCELLED } from './job-cancelled.error';

/**
 * What cancel did:
 * - 'cancelled': the job was waiting (or retrying, or scheduled); it is abandoned and never runs;
 * - 'cancelling': a worker holds the job (running, or about to start it); that worker aborts it
 *   within about a second (its AbortSignal fires) and the row ends abandoned. A job that finishes
 *   first keeps its own outcome;
 * - 'finished': it is abandoned or completed already; nothing changed;
 * - 'not-found': no job has this id (a succeeded job's row is deleted).
 */
export type CancelOutcome = 'cancelled' | 'cancelling' | 'finished' | 'not-found';

/** Who cancels, when the caller does not say: this process. */
export function thisProcess(): string {
  return `${hostname()}/${process.pid}`;
}

/** The bag of a cancelled job: LastError "cancelled" (as a failure's, with its time and try), and who cancelled. */
export function withCancellation(
  extraProperties: string,
  requestedBy: string | null,
  tryCount: number,
  now: Date,
): string {
  const bag = JSON.parse(withLastError(extraProperties, CANCELLED, tryCount, now)) as Record<string, unknown>;
  return JSON.stringify({ ...bag, CancelledBy: requestedBy, CancellationTime: now.toISOString() });
}

/** Rounds of read-then-write before the request is left to the worker; a row changes that often only under a claim. */
const MAX_ROUNDS = 4;

/**
 * Cancels one job, through the store alone (no management service needed): a job no worker holds
 * is abandoned at once, by a write that names the stamp it read, so a claim in between wins and
 * the job is treated as held; a held job gets a request its worker acts on.
 */
export async function cancelJob(
  store: BackgroundJobStore,
  id: string,
  requestedBy: string | null = thisProcess(),
): Promise<CancelOutcome> {
  for (let round = 1; ; round++) {
    const row = await store.find(id);
    if (!row) return 'not-found';
    if (isFinished(row)) return 'finished';
    const now = new Date();
    if (isHeldAt(row, now) || round > MAX_ROUNDS) {
      await store.cancellations.request({ id: row.id, jobCreationTime: row.creationTime, requestedBy }, now);
      return 'cancelling';
    }
    const abandoned = await store.cancellations.abandonWaiting(
      {
        id: row.id,
        expectedStamp: row.concurrencyStamp,
        extraProperties: withCancellation(row.extraProperties, requestedBy, row.tryCount, now),
        newStamp: newConcurrencyStamp(),
      },
      now,
    );
    if (abandoned) return 'cancelled';
  }
}

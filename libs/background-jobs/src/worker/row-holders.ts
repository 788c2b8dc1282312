import { isLeaseStamp } from '../store/background-job-record';
import { BackgroundJobStore } from '../store/background-job-store';

/** Rows looked up after one write changed fewer rows than it named; the rest are not told apart. */
export const MAX_ROWS_CHECKED = 100;

/**
 * Where a row stands now, for a write fenced by `leaseToken` that did not change it:
 * - `gone`: deleted (by an earlier attempt of the same DELETE, by another worker, or by a person);
 * - `ours`: it still holds the token (the write did change it; some drivers count it unchanged);
 * - `other-worker`: another claim's lease token, so another worker holds the job now;
 * - `released`: a plain stamp, written by a failure, a release or a person.
 */
export type RowStanding = { kind: 'gone' | 'ours' | 'other-worker' } | { kind: 'released'; stamp: string };

/**
 * Reads the rows one by one. Only after a write came back short, which is rare, so the few reads
 * cost nothing on the hot path; a warning is logged only for what they show.
 */
export async function lookUpRows(
  store: BackgroundJobStore,
  ids: string[],
  leaseToken: (id: string) => string,
): Promise<Map<string, RowStanding>> {
  const standing = new Map<string, RowStanding>();
  for (const id of ids.slice(0, MAX_ROWS_CHECKED)) {
    const row = await store.find(id);
    if (row === undefined) standing.set(id, { kind: 'gone' });
    else if (row.concurrencyStamp === leaseToken(id)) standing.set(id, { kind: 'ours' });
    else if (isLeaseStamp(row.concurrencyStamp)) standing.set(id, { kind: 'other-worker' });
    else standing.set(id, { kind: 'released', stamp: row.concurrencyStamp });
  }
  return standing;
}

import { createHash } from 'node:crypto';
import type { BackgroundJobStore } from './background-job-store';

/**
 * Enqueue keys: a job enqueued under an id its caller chose leaves a key (the id and a
 * fingerprint of the job) in AbpBackgroundJobEnqueueKeys, beside ABP's table. ABP deletes a job's
 * row once it has run; the key stays for the retention below, so a repeat of the enqueue within
 * it is recognised and writes nothing. After it, a repeat is queued again.
 */
export const ENQUEUE_KEY_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/** Keys per DELETE: short statements, and well under SQL Server's lock escalation at 5,000 rows. */
export const ENQUEUE_KEYS_PER_DELETE = 1000;

/** Tells two jobs apart under one id: hex SHA-256 of the job name and its args, unambiguously joined. */
export function enqueueFingerprint(jobName: string, jobArgs: string): string {
  return createHash('sha256')
    .update(JSON.stringify([jobName, jobArgs]))
    .digest('hex');
}

/**
 * Deletes the keys older than the retention, one bounded statement after another until fewer
 * than a full batch go; returns how many went. For the worker to call about once an hour.
 */
export async function deleteExpiredEnqueueKeys(
  store: BackgroundJobStore,
  now = new Date(),
  retentionMs = ENQUEUE_KEY_RETENTION_MS,
): Promise<number> {
  const before = new Date(now.getTime() - retentionMs);
  let deleted = 0;
  for (;;) {
    const n = await store.deleteEnqueueKeysBefore(before, ENQUEUE_KEYS_PER_DELETE);
    deleted += n;
    if (n < ENQUEUE_KEYS_PER_DELETE) return deleted;
  }
}

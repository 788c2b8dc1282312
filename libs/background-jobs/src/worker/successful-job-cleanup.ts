import { createHash } from 'node:crypto';
import { BackgroundJobWorkerOptions } from '../background-jobs.options';
import { BackgroundJobStore } from '../store/background-job-store';

/** ABP's `CleanupDistributedLockName`. */
export const CLEANUP_LOCK_NAME = 'AbpBackgroundJobCleanup';

/**
 * The cleanup's lock for one application: apps sharing a table clean their own rows, each under
 * its own lock (the name hashed, so every database's limit on lock names holds).
 */
export function cleanupLockName(applicationName: string | null): string {
  if (applicationName === null) return CLEANUP_LOCK_NAME;
  return `${CLEANUP_LOCK_NAME}:${createHash('sha256').update(applicationName).digest('hex').slice(0, 32)}`;
}

type CleanupOptions = Pick<
  BackgroundJobWorkerOptions,
  'applicationName' | 'successfulJobRetentionTime' | 'maxJobFetchCount'
>;

/**
 * ABP 10's cleanup of kept successful jobs (StoreSuccessfulJobs): deletes this application's rows
 * completed more than SuccessfulJobRetentionTime ago, MaxJobFetchCount per statement, until none
 * are left, under a database lock, so one worker of the cluster cleans at a time while the others
 * skip the round. It runs beside the claims on its own connections, and its deletes skip rows
 * others hold, so it never holds up a claim.
 */
export class SuccessfulJobCleanup {
  private stopping = false;

  constructor(
    private readonly store: BackgroundJobStore,
    private readonly options: CleanupOptions,
  ) {}

  /** Rows deleted by one round; undefined when another worker holds the lock (it cleans instead). */
  async runOnce(now = new Date()): Promise<number | undefined> {
    const retention = this.options.successfulJobRetentionTime;
    if (retention === null) return 0;
    const { applicationName, maxJobFetchCount } = this.options;
    const before = new Date(now.getTime() - retention * 1000);
    const locked = await this.store.tryWithLock(cleanupLockName(applicationName), async () => {
      let deleted = 0;
      // Until a statement finds none: a dialect may cap its statements below MaxJobFetchCount.
      while (!this.stopping) {
        const n = await this.store.deleteCompletedBefore(applicationName, before, maxJobFetchCount);
        deleted += n;
        if (n === 0) break;
      }
      return deleted;
    });
    return locked?.value;
  }

  /** Ends a round under way after its current statement. */
  stop(): void {
    this.stopping = true;
  }
}

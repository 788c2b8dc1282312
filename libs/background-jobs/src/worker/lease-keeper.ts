import { LoggerService } from '@nestjs/common';
import { BackgroundJobStore } from '../store/background-job-store';
import { ClaimedJob } from '../store/background-job-record';
import { newConcurrencyStamp } from '../store/stamps';
import { DatabaseHealth } from './database-health';
import { describeError } from './last-error';

/**
 * The rows this worker holds (claimed, and their result not yet written): renews their leases
 * every third of the lease so no other worker takes a running job, and gives rows back
 * (release) when this worker will not finish them.
 */
export class LeaseKeeper {
  private readonly held = new Map<string, ClaimedJob>();
  private renewTimer?: NodeJS.Timeout;
  /** The renewal under way: a database that hangs instead of refusing must not pile renewals up in the pool. */
  private renewal?: Promise<void>;
  private releasedCount = 0;

  constructor(
    private readonly store: BackgroundJobStore,
    private readonly leaseSeconds: number,
    private readonly health: DatabaseHealth,
    private readonly logger: LoggerService,
  ) {}

  /** Rows given back to other workers so far. */
  get released(): number {
    return this.releasedCount;
  }

  hold(jobs: ClaimedJob[]): void {
    for (const job of jobs) this.held.set(job.id, job);
  }

  /** The rows' results are written: they are no longer this worker's. */
  forget(ids: string[]): void {
    for (const id of ids) this.held.delete(id);
  }

  startRenewing(): void {
    const every = Math.max((this.leaseSeconds * 1000) / 3, 100);
    this.renewTimer = setInterval(() => void this.renewOnce(), every);
    this.renewTimer.unref();
  }

  stopRenewing(): void {
    clearInterval(this.renewTimer);
  }

  /**
   * Gives rows back at once: due now, with a new stamp so this worker's token no longer matches.
   * `undoTry`: the rows never started here, so their claim does not count as a try.
   */
  async release(jobs: ClaimedJob[], undoTry: boolean): Promise<void> {
    for (const [leaseToken, ids] of idsByLeaseToken(jobs)) {
      try {
        this.releasedCount += await this.store.release({ leaseToken, ids, now: new Date(), newStamp: newConcurrencyStamp(), undoTry });
      } catch (error) {
        this.logger.warn(`Could not release ${ids.length} job(s); they become due when their lease ends: ${describeError(error)}`);
      }
      this.forget(ids);
    }
  }

  private renewOnce(): Promise<void> {
    if (this.held.size === 0 || this.renewal) return Promise.resolve();
    this.renewal = this.renewHeld().finally(() => (this.renewal = undefined));
    return this.renewal;
  }

  private async renewHeld(): Promise<void> {
    const byToken = idsByLeaseToken(this.held.values());
    const startedAt = Date.now();
    const until = new Date(startedAt + this.leaseSeconds * 1000);
    try {
      for (const [token, ids] of byToken) {
        const renewed = await this.store.extendLeases(token, ids, until);
        if (renewed < ids.length) this.logger.warn(`${ids.length - renewed} lease(s) could not be renewed: another worker holds those jobs now`);
      }
      this.health.succeeded(startedAt);
    } catch (error) {
      this.health.failed(error);
    }
  }
}

/** Writes that present a lease token go one statement per token (one per claim batch). */
function idsByLeaseToken(jobs: Iterable<ClaimedJob>): Map<string, string[]> {
  const byToken = new Map<string, string[]>();
  for (const job of jobs) {
    const ids = byToken.get(job.leaseToken);
    if (ids) ids.push(job.id);
    else byToken.set(job.leaseToken, [job.id]);
  }
  return byToken;
}

import { LoggerService } from '@nestjs/common';
import { BackgroundJobStore } from '../store/background-job-store';
import { ClaimedJob } from '../store/background-job-record';
import { newConcurrencyStamp } from '../store/stamps';
import { DatabaseHealth } from './database-health';
import { describeError } from './last-error';
import { lookUpRows } from './row-holders';

/**
 * The rows this worker holds (claimed, and their result not yet written): renews their leases
 * every third of the lease so no other worker takes a running job, and gives rows back
 * (release) when this worker will not finish them.
 */
export class LeaseKeeper {
  private readonly held = new Map<string, ClaimedJob>();
  /** Per lease token: until when the database holds its rows for this worker, as last written. */
  private readonly leaseEnds = new Map<string, number>();
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

  /** Rows of a claim whose lease runs until `leaseUntil`. */
  hold(jobs: ClaimedJob[], leaseUntil: Date): void {
    for (const job of jobs) this.held.set(job.id, job);
    // One token per claim: its rows share one lease end.
    if (jobs.length > 0) this.leaseEnds.set(jobs[0].leaseToken, leaseUntil.getTime());
  }

  /** The rows this worker holds now (claimed, their result not yet written). */
  heldJobs(): IterableIterator<ClaimedJob> {
    return this.held.values();
  }

  /** True while no other worker can have claimed this token's rows: its lease had not ended at `at`. */
  heldUntilAtLeast(leaseToken: string, at: number): boolean {
    return at < (this.leaseEnds.get(leaseToken) ?? 0);
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
        this.releasedCount += await this.store.release({
          leaseToken,
          ids,
          now: new Date(),
          newStamp: newConcurrencyStamp(),
          undoTry,
        });
      } catch (error) {
        this.logger.warn(
          `Could not release ${ids.length} job(s); they become due when their lease ends: ${describeError(error)}`,
        );
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
    for (const token of this.leaseEnds.keys()) if (!byToken.has(token)) this.leaseEnds.delete(token);
    const startedAt = Date.now();
    const until = new Date(startedAt + this.leaseSeconds * 1000);
    try {
      for (const [token, ids] of byToken) {
        const renewed = await this.store.extendLeases(token, ids, until);
        this.leaseEnds.set(token, until.getTime());
        if (renewed < ids.length) await this.explainUnrenewed(token, ids);
      }
      this.health.succeeded(startedAt);
    } catch (error) {
      this.health.failed(error);
    }
  }

  /**
   * A renewal changed fewer rows than it named. Most often a result of this worker got there
   * first (the job's DELETE or failure update raced the renewal); only rows under another
   * claim's lease token were taken over, and only those are warned about and let go.
   */
  private async explainUnrenewed(token: string, ids: string[]): Promise<void> {
    const stillHeld = ids.filter((id) => this.held.has(id));
    const standing = await lookUpRows(this.store, stillHeld, () => token);
    const takenOver = [...standing].filter(([, row]) => row.kind === 'other-worker').map(([id]) => id);
    if (takenOver.length === 0) return;
    this.logger.warn(
      `${takenOver.length} lease(s) could not be renewed: another worker holds those jobs now (${takenOver.join(', ')})`,
    );
    this.forget(takenOver);
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

import { BackgroundJobWorkerOptions } from '../background-jobs.options';
import { BackgroundJobStore } from '../store/background-job-store';
import { ClaimedJob } from '../store/background-job-record';
import { newLeaseToken } from '../store/stamps';
import { DatabaseHealth } from './database-health';
import type { JobNameSource } from './dedicated-workers';
import { LeaseKeeper } from './lease-keeper';
import { LocalQueue } from './local-queue';
import { WakeableSleep } from './wakeable-sleep';

/** At most this many claims at once: one being worked on by the database while this process runs the last batch. */
const MAX_CLAIMS_IN_FLIGHT = 2;

/**
 * - 'created': not started.
 * - 'polling': claims while the queue has room, then sleeps JobPollPeriod or until woken.
 * - 'backing-off': the last claim failed; no claim before `retryAt` (DatabaseHealth's backoff).
 * - 'stopped': claims nothing more; the loop ends once the claims in flight are back.
 */
type ClaimLoopMode = 'created' | 'polling' | 'backing-off' | 'stopped';

/**
 * 'more-due': the last claim came back full or failed, so more rows than one claim takes are
 * probably due now (a second claim may go in flight); 'woken': a wake-up said rows were enqueued
 * since the last claim began, which one claim will take (a notification per enqueue must not cost
 * two claims); 'caught-up': the last claim took every due row there was.
 */
type DueRows = 'more-due' | 'woken' | 'caught-up';

type ClaimOptions = Pick<BackgroundJobWorkerOptions, 'applicationName' | 'jobPollPeriod' | 'jobLeaseDuration'>;

/**
 * Keeps the local queue filled. A claim asks for half the queue's target; it starts when that
 * much room is free (or the queue and claims are empty). While more rows are due, a second claim
 * may be in flight, so the database fetches the next batch while this process runs the current one.
 */
export class QueueFiller {
  private mode: ClaimLoopMode = 'created';
  private dueRows: DueRows = 'caught-up';
  private retryAt = 0;
  private readonly claimsInFlight = new Set<Promise<void>>();
  /** Rows asked for by the claims in flight. */
  private rowsRequested = 0;
  /** Wake-ups so far: a claim that began before the last one may have missed its rows. */
  private wakeCount = 0;
  private loop?: Promise<void>;
  private tickedAt?: number;

  constructor(
    private readonly store: BackgroundJobStore,
    private readonly queue: LocalQueue,
    private readonly leases: LeaseKeeper,
    private readonly health: DatabaseHealth,
    private readonly sleep: WakeableSleep,
    private readonly options: ClaimOptions,
    /** The job names to claim, read at every claim: dynamic handlers come and go. */
    private readonly jobNames: JobNameSource,
    /** Called after each claim that came back: start its rows. */
    private readonly onClaimed: () => void,
  ) {}

  start(): void {
    if (this.mode !== 'created') return;
    this.mode = 'polling';
    this.loop = this.claimLoop();
  }

  /**
   * When the claim loop last went round (Date.now()), undefined before its first round. It goes
   * round at least once per JobPollPeriod, also while the database is down; a liveness probe reads it.
   */
  get lastTickAt(): number | undefined {
    return this.tickedAt;
  }

  /** Rows may be due now: claim at once if there is room, else as soon as there is. */
  wake(): void {
    this.wakeCount++;
    if (this.dueRows === 'caught-up') this.dueRows = 'woken';
    this.sleep.interrupt();
  }

  /** Claims nothing more; resolves when the claims in flight are back (their rows are in the local queue). */
  async stop(): Promise<void> {
    this.mode = 'stopped';
    this.sleep.interrupt();
    await this.loop;
  }

  /** Ends the loop's sleep when the queue has room for a claim and more rows are due. */
  claimIfBelowThreshold(): void {
    if (this.mode === 'stopped' || this.dueRows === 'caught-up') return;
    const target = this.queue.target;
    if (target - this.queue.length - this.rowsRequested >= Math.ceil(target / 2)) this.sleep.interrupt();
  }

  private async claimLoop(): Promise<void> {
    while (this.mode !== 'stopped') {
      this.tickedAt = Date.now();
      this.startClaimsWhileRoom();
      const untilRetry = this.mode === 'backing-off' ? this.retryAt - Date.now() : 0;
      await this.sleep.sleep(
        untilRetry > 0 ? Math.min(untilRetry, this.options.jobPollPeriod) : this.options.jobPollPeriod,
      );
    }
    await Promise.all(this.claimsInFlight);
  }

  private startClaimsWhileRoom(): void {
    if (this.mode === 'backing-off' && Date.now() < this.retryAt) return;
    const target = this.queue.target;
    const chunk = Math.ceil(target / 2);
    while (this.mode !== 'stopped' && this.claimsInFlight.size < MAX_CLAIMS_IN_FLIGHT) {
      const room = target - this.queue.length - this.rowsRequested;
      const idle = this.claimsInFlight.size === 0 && this.queue.length === 0;
      if (room <= 0 || (room < chunk && !idle)) return;
      // A second claim only while more rows are known to be due, and not to a database that just failed.
      if (this.claimsInFlight.size > 0 && (this.dueRows !== 'more-due' || this.mode === 'backing-off')) return;
      const limit = Math.min(room, chunk);
      this.rowsRequested += limit;
      const wakesBefore = this.wakeCount;
      const claim: Promise<void> = this.claim(limit).then((claimed) => {
        this.rowsRequested -= limit;
        this.claimsInFlight.delete(claim);
        if (claimed === undefined) {
          if (this.mode !== 'stopped') this.mode = 'backing-off';
          this.retryAt = Date.now() + this.health.retryDelay(this.options.jobPollPeriod);
          this.dueRows = 'more-due';
        } else {
          if (this.mode !== 'stopped') this.mode = 'polling';
          // A wake-up while this claim was out may be for rows its snapshot did not see.
          this.dueRows = claimed === limit ? 'more-due' : this.wakeCount !== wakesBefore ? 'woken' : 'caught-up';
        }
        this.claimIfBelowThreshold();
      });
      this.claimsInFlight.add(claim);
    }
  }

  /** One claim; the number of rows it brought, or undefined when the database failed. */
  private async claim(limit: number): Promise<number | undefined> {
    const now = new Date();
    const leaseUntil = new Date(now.getTime() + this.options.jobLeaseDuration * 1000);
    let claimed: ClaimedJob[];
    try {
      claimed = await this.store.claim({
        applicationName: this.options.applicationName,
        jobNames: this.jobNames.current,
        limit,
        now,
        leaseUntil,
        leaseToken: newLeaseToken(),
      });
      this.health.succeeded(now.getTime());
    } catch (error) {
      this.health.failed(error);
      return undefined;
    }
    this.leases.hold(claimed, leaseUntil);
    this.queue.add(claimed);
    this.onClaimed();
    return claimed.length;
  }
}

import { Logger } from '@nestjs/common';
import { BackgroundJobWorkerOptions } from '../background-jobs.options';
import { BackgroundJobStore } from '../store/background-job-store';
import { ClaimedJob, sortInDequeueOrder } from '../store/background-job-record';
import { newConcurrencyStamp, newLeaseToken } from '../store/stamps';
import { nextTryTime } from './backoff';
import { describeError, withLastError } from './last-error';
import { JobOutcome, JobRunner, WorkerShutdownError } from './job-runner';
import { ResultWriter } from './result-writer';
import { JobAbort } from './job-abort';
import { DatabaseHealth } from './database-health';
import { LocalQueueSize } from './local-queue-size';

const MAX_CLAIMS_IN_FLIGHT = 2;

export interface WorkerSummary {
  succeeded: number;
  failed: number;
  abandoned: number;
  released: number;
  /** Results the database refused because the lease had passed to another worker. */
  refused: number;
}

/**
 * The executor loop. It claims due rows of its own job names into a small local queue, runs up to
 * MaxParallelJobExecutionCount of them at once, writes results in batches, renews the leases of
 * everything it holds, and on stop releases what it did not finish. It never holds a database
 * transaction open while a job runs.
 */
export class BackgroundJobWorker {
  private readonly logger = new Logger('BackgroundJobWorker');
  private readonly held = new Map<string, ClaimedJob>();
  private queue: ClaimedJob[] = [];
  /** Rows whose jobs shutdown aborted: released, not failed. */
  private interrupted: ClaimedJob[] = [];
  private readonly running = new Map<string, { abort: JobAbort; done: Promise<void> }>();
  private readonly results: ResultWriter;
  private readonly health: DatabaseHealth;
  private readonly summary: WorkerSummary = { succeeded: 0, failed: 0, abandoned: 0, released: 0, refused: 0 };
  private stopping = false;
  private loop?: Promise<void>;
  private sleeper?: () => void;
  private wakeRequested = false;
  private moreDue = false;
  private leaseTimer?: NodeJS.Timeout;
  private renewing = false;
  private readonly claimsInFlight = new Set<Promise<void>>();
  private rowsRequested = 0;
  private claimRetryAt = 0;
  private readonly localQueue: LocalQueueSize;

  constructor(
    private readonly store: BackgroundJobStore,
    private readonly runner: JobRunner,
    private readonly options: BackgroundJobWorkerOptions,
    private readonly jobNames: string[],
  ) {
    this.localQueue = new LocalQueueSize(options.maxParallelJobExecutionCount, options.maxJobFetchCount);
    this.health = new DatabaseHealth(this.logger, (error) => store.isUnavailable(error));
    this.results = new ResultWriter(
      store,
      (ids, refused, startedAt) => this.onResultsWritten(ids, refused, startedAt),
      (error) => this.health.failed(error),
    );
  }

  get stats(): Readonly<WorkerSummary> & { held: number; running: number } {
    return { ...this.summary, held: this.held.size, running: this.running.size };
  }

  async start(): Promise<void> {
    if (this.stopping) return; // stopped before it started
    this.loop = this.claimLoop();
    const leaseMs = this.options.jobLeaseDuration * 1000;
    this.leaseTimer = setInterval(() => void this.renewLeases(), Math.max(leaseMs / 3, 100));
    this.leaseTimer.unref();
    await this.store.notifier?.subscribe(
      () => this.wake(),
      (connected, error) => (connected ? this.health.succeeded() : this.health.failed(error ?? new Error('notification connection closed'), true)),
    );
  }

  /** Something may be due now: claim at once if there is room, else as soon as there is. */
  wake(): void {
    this.moreDue = true;
    this.signal();
  }

  /** Stops claiming, lets running jobs finish within `timeoutMs`, aborts the rest and releases every row still held. */
  async stop(timeoutMs: number): Promise<WorkerSummary> {
    this.stopping = true;
    this.signal();
    await this.store.notifier?.unsubscribe().catch(() => undefined);
    await this.loop;
    await this.releaseQueued();
    const finished = Promise.all([...this.running.values()].map((r) => r.done));
    const deadline = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref());
    if ((await Promise.race([finished, deadline])) === 'timeout') {
      this.logger.warn(`${this.running.size} job(s) still running after ${timeoutMs} ms; aborting them`);
      for (const run of this.running.values()) run.abort.abort(new WorkerShutdownError());
      await finished;
    }
    await this.flushResults(5);
    clearInterval(this.leaseTimer);
    this.results.dispose();
    return { ...this.summary };
  }

  /**
   * Keeps the local queue filled. A claim takes half the queue's target, and a second one may be in
   * flight while more rows are known to be due: the database works on the next batch while this
   * process runs the current one (one claim at a time left the worker idle for most of a claim).
   */
  private async claimLoop(): Promise<void> {
    while (!this.stopping) {
      this.startClaims();
      const untilRetry = this.claimRetryAt - Date.now();
      await this.sleep(untilRetry > 0 ? Math.min(untilRetry, this.options.jobPollPeriod) : this.options.jobPollPeriod);
    }
    await Promise.all(this.claimsInFlight);
  }

  private startClaims(): void {
    if (Date.now() < this.claimRetryAt) return;
    const target = this.localQueue.target;
    const chunk = Math.ceil(target / 2);
    while (!this.stopping && this.claimsInFlight.size < MAX_CLAIMS_IN_FLIGHT) {
      const room = target - this.queue.length - this.rowsRequested;
      const idle = this.claimsInFlight.size === 0 && this.queue.length === 0;
      if (room <= 0 || (room < chunk && !idle) || (this.claimsInFlight.size > 0 && !this.moreDue)) return;
      const limit = Math.min(room, chunk);
      this.rowsRequested += limit;
      const claim: Promise<void> = this.claim(limit).then((claimed) => {
        this.rowsRequested -= limit;
        this.claimsInFlight.delete(claim);
        if (claimed === undefined) {
          this.claimRetryAt = Date.now() + this.health.retryDelay(this.options.jobPollPeriod);
          this.moreDue = true;
        } else {
          this.claimRetryAt = 0;
          this.moreDue = claimed === limit;
        }
        this.refillIfLow();
      });
      this.claimsInFlight.add(claim);
    }
  }

  private async claim(limit: number): Promise<number | undefined> {
    const now = new Date();
    let claimed: ClaimedJob[];
    try {
      claimed = await this.store.claim({
        applicationName: this.options.applicationName,
        jobNames: this.jobNames,
        limit,
        now,
        leaseUntil: new Date(now.getTime() + this.options.jobLeaseDuration * 1000),
        leaseToken: newLeaseToken(),
      });
      this.health.succeeded(now.getTime());
    } catch (error) {
      this.health.failed(error);
      return undefined;
    }
    for (const job of claimed) this.held.set(job.id, job);
    this.queue = sortInDequeueOrder(this.queue.concat(claimed));
    this.pump();
    return claimed.length;
  }

  private pump(): void {
    while (!this.stopping && this.running.size < this.options.maxParallelJobExecutionCount && this.queue.length > 0) {
      const job = this.queue.shift()!;
      if (job.previousLeaseExpired && this.abandonAfterLostTry(job)) continue;
      const abort = new JobAbort();
      const started = performance.now();
      const finish = (outcome: JobOutcome) => {
        this.localQueue.observe(performance.now() - started);
        this.running.delete(job.id);
        this.settle(job, outcome);
        this.pump();
      };
      const done = this.runner.run(job, abort).then(finish, (error: unknown) => finish({ kind: 'failed', error }));
      this.running.set(job.id, { abort, done });
    }
    // Refill early so the next batch is ready when the slots free up.
    this.refillIfLow();
  }

  /**
   * The worker of the previous claim died holding the row. That try counts as failed; if ABP's
   * rule would abandon the job after it, abandon it now instead of running it again.
   */
  private abandonAfterLostTry(job: ClaimedJob): boolean {
    const now = new Date();
    const lostTry = { tryCount: job.tryCount - 1, lastTryTime: now, creationTime: job.creationTime };
    if (nextTryTime(lostTry, this.options, now) !== null) return false;
    this.settle(job, { kind: 'failed', error: new Error(`Try ${lostTry.tryCount} was lost: its worker stopped while running it`) }, true);
    return true;
  }

  private settle(job: ClaimedJob, outcome: JobOutcome, abandon = false): void {
    const now = new Date();
    switch (outcome.kind) {
      case 'succeeded':
        this.summary.succeeded++;
        this.results.complete(job.leaseToken, job.id);
        return;
      case 'interrupted':
        this.queueForRelease(job);
        return;
      case 'broken':
      case 'failed': {
        const next = outcome.kind === 'broken' || abandon ? null : nextTryTime(job, this.options, now);
        if (next === null) {
          this.summary.abandoned++;
          this.logger.error(`Abandoned job ${job.id} (${job.jobName}) after try ${job.tryCount}: ${describeError(outcome.error)}`);
        } else {
          this.summary.failed++;
          this.logger.warn(`Job ${job.id} (${job.jobName}) failed on try ${job.tryCount}; next try at ${next.toISOString()}: ${describeError(outcome.error)}`);
        }
        this.results.fail({
          id: job.id,
          leaseToken: job.leaseToken,
          nextTryTime: next,
          extraProperties: withLastError(job.extraProperties, outcome.error, job.tryCount, now),
          newStamp: newConcurrencyStamp(),
        });
      }
    }
  }

  private onResultsWritten(ids: string[], refused: number, startedAt: number): void {
    for (const id of ids) this.held.delete(id);
    if (refused > 0) {
      this.summary.refused += refused;
      this.logger.warn(`${refused} job result(s) not written: their lease had passed to another worker`);
    }
    this.health.succeeded(startedAt);
    this.refillIfLow();
  }

  private queueForRelease(job: ClaimedJob): void {
    this.interrupted.push(job);
  }

  private async releaseQueued(): Promise<void> {
    const queued = this.queue;
    this.queue = [];
    await this.release(queued, true);
  }

  /** Gives rows back at once: due now, with a new stamp so this worker's token no longer matches. */
  private async release(jobs: ClaimedJob[], undoTry: boolean): Promise<void> {
    for (const [leaseToken, ids] of idsByLeaseToken(jobs)) {
      try {
        this.summary.released += await this.store.release({ leaseToken, ids, now: new Date(), newStamp: newConcurrencyStamp(), undoTry });
      } catch (error) {
        this.logger.warn(`Could not release ${ids.length} job(s); they become due when their lease ends: ${describeError(error)}`);
      }
      for (const id of ids) this.held.delete(id);
    }
  }

  private async flushResults(attempts: number): Promise<void> {
    await this.release(this.interrupted.splice(0), false);
    for (let i = 0; i < attempts && this.results.pending > 0; i++) {
      await this.results.flush();
      if (this.results.pending > 0) await new Promise((r) => setTimeout(r, 200 * (i + 1)));
    }
    if (this.results.pending > 0) {
      this.logger.warn(`${this.results.pending} job result(s) could not be written; those jobs run again when their lease ends`);
    }
  }

  private async renewLeases(): Promise<void> {
    // A database that hangs instead of refusing must not pile renewals up in the pool.
    if (this.held.size === 0 || this.renewing) return;
    this.renewing = true;
    try {
      await this.renewHeldLeases();
    } finally {
      this.renewing = false;
    }
  }

  private async renewHeldLeases(): Promise<void> {
    const byToken = idsByLeaseToken(this.held.values());
    const startedAt = Date.now();
    const until = new Date(startedAt + this.options.jobLeaseDuration * 1000);
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

  /** Ends the loop's current sleep, or the next one if it is busy claiming. */
  private signal(): void {
    this.wakeRequested = true;
    const wake = this.sleeper;
    this.sleeper = undefined;
    wake?.();
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopping || this.wakeRequested) {
      this.wakeRequested = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        if (this.sleeper === finish) this.sleeper = undefined;
        this.wakeRequested = false;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      this.sleeper = finish;
    });
  }

  private refillIfLow(): void {
    if (this.stopping || !this.moreDue) return;
    const target = this.localQueue.target;
    if (target - this.queue.length - this.rowsRequested >= Math.ceil(target / 2)) this.signal();
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

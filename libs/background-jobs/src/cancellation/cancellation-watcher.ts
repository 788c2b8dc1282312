import { LoggerService } from '@nestjs/common';
import type { ClaimedJob } from '../store/background-job-record';
import type { JobCancellationStore } from '../store/job-cancellation-store';
import { describeError } from '../worker/last-error';
import { JobCancelledError } from './job-cancelled.error';

/** A worker, as far as cancel needs it: the rows it holds, and a way to abort or drop one. */
export interface CancellableWorker {
  heldJobs(): Iterable<ClaimedJob>;
  cancel(id: string, error: JobCancelledError): boolean;
}

export interface CancellationWatcherOptions {
  /** How often held rows are checked for requests where nothing pushes them (ms): the "within about a second". */
  pollMs: number;
  /** The same while a push channel (PostgreSQL's LISTEN) is connected: only a safety net then. */
  listeningPollMs: number;
  /** How often requests of finished jobs are deleted (ms). */
  cleanupMs: number;
}

export const DEFAULT_CANCELLATION_WATCHER_OPTIONS: CancellationWatcherOptions = {
  pollMs: 1000,
  listeningPollMs: 10_000,
  cleanupMs: 60 * 60 * 1000,
};

/** Requests of finished jobs deleted per statement. */
const SETTLED_PER_DELETE = 1000;

/**
 * Carries cancel requests to the workers of this process. While a worker holds rows it looks
 * their ids up in AbpBackgroundJobCancellations once a second (one lookup by key over a table that
 * is almost always empty); on PostgreSQL a request's NOTIFY makes it look at once, and the
 * periodic look is a safety net. A request counts only for the row it was made for (the same
 * CreationTime): one left over from an earlier job of the same unique id cancels nothing. Once the
 * cancelled job's result is written (the worker no longer holds it), its request is deleted.
 */
export class CancellationWatcher {
  private readonly workers = new Set<CancellableWorker>();
  /** Ids cancelled here whose request is deleted once their worker lets go of them. */
  private readonly acted = new Set<string>();
  private timer?: NodeJS.Timeout;
  private cleanupTimer?: NodeJS.Timeout;
  private checking?: Promise<void>;
  private checkAgain = false;
  private listening = false;
  private stopped = false;
  private failing = false;

  constructor(
    private readonly store: JobCancellationStore,
    private readonly logger: LoggerService,
    private readonly options: CancellationWatcherOptions = DEFAULT_CANCELLATION_WATCHER_OPTIONS,
  ) {}

  /** Adds a worker whose held rows are watched; returns the function that removes it. */
  attach(worker: CancellableWorker): () => void {
    this.workers.add(worker);
    return () => this.workers.delete(worker);
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.schedule();
    this.cleanupTimer = setInterval(() => void this.deleteSettled(), this.options.cleanupMs);
    this.cleanupTimer.unref();
    void this.deleteSettled();
    await this.store.notifier?.subscribe(
      () => void this.checkNow(),
      (connected) => {
        this.listening = connected;
        this.schedule();
      },
    );
  }

  /** Stops watching; resolves when a check under way has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.cleanupTimer);
    await this.store.notifier?.unsubscribe().catch(() => undefined);
    await this.checking;
  }

  /** Looks for requests now (a notification came, or a test asks). */
  checkNow(): Promise<void> {
    if (this.checking) {
      this.checkAgain = true;
      return this.checking;
    }
    this.checking = this.check().finally(() => {
      this.checking = undefined;
      if (this.checkAgain && !this.stopped) {
        this.checkAgain = false;
        void this.checkNow();
      }
    });
    return this.checking;
  }

  private schedule(): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    const every = this.listening ? this.options.listeningPollMs : this.options.pollMs;
    this.timer = setTimeout(() => void this.checkNow().finally(() => this.schedule()), every);
    this.timer.unref();
  }

  private async check(): Promise<void> {
    const held = new Map<string, { worker: CancellableWorker; job: ClaimedJob }>();
    for (const worker of this.workers) for (const job of worker.heldJobs()) held.set(job.id, { worker, job });
    try {
      const done = [...this.acted].filter((id) => !held.has(id));
      if (done.length > 0) {
        await this.store.deleteRequests(done);
        for (const id of done) this.acted.delete(id);
      }
      const ids = [...held.keys()].filter((id) => !this.acted.has(id));
      if (ids.length === 0) return;
      for (const request of await this.store.findRequests(ids)) {
        const entry = held.get(request.id);
        if (!entry || entry.job.creationTime.getTime() !== request.jobCreationTime.getTime()) continue;
        if (entry.worker.cancel(request.id, new JobCancelledError(request.requestedBy))) this.acted.add(request.id);
      }
      this.failing = false;
    } catch (error) {
      // The worker's own outage log says the database is away; this says once what it means here.
      if (!this.failing)
        this.logger.warn(`Could not look for cancel requests; retrying: ${describeError(error).split('\n')[0]}`);
      this.failing = true;
    }
  }

  private async deleteSettled(): Promise<void> {
    try {
      let deleted = 0;
      for (;;) {
        const n = await this.store.deleteSettledRequests(SETTLED_PER_DELETE);
        deleted += n;
        if (n < SETTLED_PER_DELETE || this.stopped) break;
      }
      if (deleted > 0) this.logger.log(`Deleted ${deleted} cancel request(s) of finished jobs`);
    } catch (error) {
      if (!this.failing) this.logger.warn(`Could not delete cancel requests of finished jobs: ${describeError(error)}`);
    }
  }
}

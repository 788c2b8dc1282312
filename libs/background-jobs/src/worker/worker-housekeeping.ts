import { LoggerService } from '@nestjs/common';
import { deleteExpiredEnqueueKeys } from '../store/enqueue-keys';
import { BackgroundJobStore } from '../store/background-job-store';
import { ForeignJobNamesReport } from './foreign-job-names';
import { describeError } from './last-error';
import { SuccessfulJobCleanup } from './successful-job-cleanup';

/** Once an hour: nothing here is urgent, and none of it may slow the claim path. */
export const HOUSEKEEPING_PERIOD_MS = 60 * 60 * 1000;

/** The cleanup of kept successful jobs (StoreSuccessfulJobs), on its own period (CleanSuccessfulJobsPeriod). */
export interface SuccessfulJobsHousekeeping {
  cleanup: SuccessfulJobCleanup;
  periodMs: number;
}

/**
 * What a worker does besides running jobs, at start and then periodically, off the claim path:
 * once an hour, one task after the other, report due rows of job names no job here knows and
 * delete enqueue keys past their retention (every worker may do it; the deletes are bounded and
 * idempotent); with StoreSuccessfulJobs, every CleanSuccessfulJobsPeriod, delete kept successful
 * rows past their retention (one worker of the cluster at a time, under a database lock). A
 * database that does not answer is the outage log's business: a failed task waits for its next turn.
 */
export class WorkerHousekeeping {
  private readonly timers: NodeJS.Timeout[] = [];
  private running?: Promise<void>;
  private cleaning?: Promise<void>;

  constructor(
    private readonly store: BackgroundJobStore,
    private readonly foreignNames: ForeignJobNamesReport,
    private readonly logger: LoggerService,
    private readonly periodMs = HOUSEKEEPING_PERIOD_MS,
    private readonly successfulJobs?: SuccessfulJobsHousekeeping,
  ) {}

  start(): void {
    this.runOnce();
    this.every(this.periodMs, () => this.runOnce());
    if (this.successfulJobs) {
      this.cleanOnce();
      this.every(this.successfulJobs.periodMs, () => this.cleanOnce());
    }
  }

  /** Stops the periodic ticks and waits for the rounds under way (a cleanup ends after its current statement). */
  async stop(): Promise<void> {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    this.successfulJobs?.cleanup.stop();
    await Promise.all([this.running, this.cleaning]);
  }

  private every(periodMs: number, task: () => void): void {
    const timer = setInterval(task, periodMs);
    timer.unref();
    this.timers.push(timer);
  }

  private runOnce(): void {
    if (this.running) return;
    this.running = this.tasks().finally(() => (this.running = undefined));
  }

  private async tasks(): Promise<void> {
    await this.foreignNames.reportOnce();
    try {
      const deleted = await deleteExpiredEnqueueKeys(this.store);
      if (deleted > 0) this.logger.log(`Deleted ${deleted} expired enqueue key(s)`);
    } catch (error) {
      if (!this.store.isUnavailable(error))
        this.logger.warn(`Could not delete expired enqueue keys: ${describeError(error)}`);
    }
  }

  /** A round that is still running when the next is due is not doubled. */
  private cleanOnce(): void {
    if (this.cleaning || !this.successfulJobs) return;
    const { cleanup } = this.successfulJobs;
    this.cleaning = cleanup
      .runOnce()
      .then(
        (deleted) => {
          if (deleted) this.logger.log(`Deleted ${deleted} kept successful job(s) past their retention`);
        },
        (error: unknown) => {
          if (!this.store.isUnavailable(error))
            this.logger.warn(`Could not delete kept successful jobs: ${describeError(error)}`);
        },
      )
      .finally(() => (this.cleaning = undefined));
  }
}

import { LoggerService } from '@nestjs/common';
import { deleteExpiredEnqueueKeys } from '../store/enqueue-keys';
import { BackgroundJobStore } from '../store/background-job-store';
import { ForeignJobNamesReport } from './foreign-job-names';
import { describeError } from './last-error';

/** Once an hour: nothing here is urgent, and none of it may slow the claim path. */
export const HOUSEKEEPING_PERIOD_MS = 60 * 60 * 1000;

/**
 * What a worker does besides running jobs, at start and then once an hour, one task after the
 * other: report due rows of job names no job here knows, and delete enqueue keys past their
 * retention (every worker may do it; the deletes are bounded and idempotent). A database that does
 * not answer is the outage log's business: a failed task waits for the next hour.
 */
export class WorkerHousekeeping {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly store: BackgroundJobStore,
    private readonly foreignNames: ForeignJobNamesReport,
    private readonly logger: LoggerService,
    private readonly periodMs = HOUSEKEEPING_PERIOD_MS,
  ) {}

  start(): void {
    this.runOnce();
    this.timer = setInterval(() => this.runOnce(), this.periodMs);
    this.timer.unref();
  }

  /** Stops the hourly tick and waits for a round under way. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
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
}

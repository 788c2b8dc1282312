import { LoggerService } from '@nestjs/common';
import { ClaimedJob } from '../store/background-job-record';
import { newConcurrencyStamp } from '../store/stamps';
import { nextTryTime } from './backoff';
import { DatabaseHealth } from './database-health';
import { JobOutcome } from './job-runner';
import { describeError, withLastError } from './last-error';
import { LeaseKeeper } from './lease-keeper';
import { ResultWriter } from './result-writer';

/** ABP's retry settings, as nextTryTime takes them. */
type RetryOptions = Parameters<typeof nextTryTime>[1];

export interface OutcomeCounts {
  succeeded: number;
  failed: number;
  abandoned: number;
  /** Results the database refused because the lease had passed to another worker. */
  refused: number;
}

/**
 * Turns each job's outcome into its row's result, by ABP's rules: success deletes the row, a
 * failure sets the next try (or abandons the job), an interrupted job waits to be released. The
 * results go to the ResultWriter in batches; once written, the rows are no longer held.
 */
export class OutcomeRecorder {
  private readonly counts: OutcomeCounts = { succeeded: 0, failed: 0, abandoned: 0, refused: 0 };
  /** Rows whose jobs shutdown aborted: released, not failed. */
  private interrupted: ClaimedJob[] = [];

  constructor(
    private readonly results: ResultWriter,
    private readonly leases: LeaseKeeper,
    private readonly health: DatabaseHealth,
    private readonly retry: RetryOptions,
    private readonly logger: LoggerService,
  ) {}

  get totals(): Readonly<OutcomeCounts> {
    return this.counts;
  }

  record(job: ClaimedJob, outcome: JobOutcome, abandon = false): void {
    switch (outcome.kind) {
      case 'succeeded':
        this.counts.succeeded++;
        this.results.complete(job.leaseToken, job.id);
        return;
      case 'interrupted':
        this.interrupted.push(job);
        return;
      case 'broken':
      case 'failed': {
        const now = new Date();
        const next = outcome.kind === 'broken' || abandon ? null : nextTryTime(job, this.retry, now);
        if (next === null) {
          this.counts.abandoned++;
          this.logger.error(`Abandoned job ${job.id} (${job.jobName}) after try ${job.tryCount}: ${describeError(outcome.error)}`);
        } else {
          this.counts.failed++;
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

  /**
   * The worker of the previous claim died holding the row. That try counts as failed; if ABP's
   * rule would abandon the job after it, abandon it now instead of running it again (true).
   */
  abandonIfLostTryWasLast(job: ClaimedJob): boolean {
    const now = new Date();
    const lostTry = { tryCount: job.tryCount - 1, lastTryTime: now, creationTime: job.creationTime };
    if (nextTryTime(lostTry, this.retry, now) !== null) return false;
    this.record(job, { kind: 'failed', error: new Error(`Try ${lostTry.tryCount} was lost: its worker stopped while running it`) }, true);
    return true;
  }

  /** The ResultWriter wrote these rows' results; `refused` of them had passed to another worker. */
  resultsWritten(ids: string[], refused: number, startedAt: number): void {
    this.leases.forget(ids);
    if (refused > 0) {
      this.counts.refused += refused;
      this.logger.warn(`${refused} job result(s) not written: their lease had passed to another worker`);
    }
    this.health.succeeded(startedAt);
  }

  /** Empties the list of rows whose jobs shutdown aborted. */
  takeInterrupted(): ClaimedJob[] {
    return this.interrupted.splice(0);
  }

  /** At shutdown: writes what is still pending, retrying with a growing pause; what stays unwritten runs again after its lease. */
  async writeRemaining(attempts: number): Promise<void> {
    for (let i = 0; i < attempts && this.results.pending > 0; i++) {
      await this.results.flush();
      if (this.results.pending > 0) await new Promise((r) => setTimeout(r, 200 * (i + 1)));
    }
    if (this.results.pending > 0) {
      this.logger.warn(`${this.results.pending} job result(s) could not be written; those jobs run again when their lease ends`);
    }
  }
}

import { LoggerService } from '@nestjs/common';
import { withCancellation } from '../cancellation/cancel-job';
import { BackgroundJobWorkerOptions } from '../background-jobs.options';
import { isAbandonJobError } from '../errors';
import { ClaimedJob } from '../store/background-job-record';
import { BackgroundJobStore } from '../store/background-job-store';
import { newConcurrencyStamp } from '../store/stamps';
import { nextTryTime } from './backoff';
import { DatabaseHealth } from './database-health';
import type { JobLifecycle } from './job-lifecycle';
import { JobOutcome } from './job-runner';
import { withResult } from './job-result';
import { describeError, withLastError } from './last-error';
import { LeaseKeeper } from './lease-keeper';
import { ResultWriter, WrittenResults } from './result-writer';
import type { RetryPolicy } from './retry-policy';
import { lookUpRows, RowStanding } from './row-holders';

/** ABP's retry settings, as nextTryTime takes them, and whether succeeded rows are kept. */
type OutcomeOptions = Parameters<typeof nextTryTime>[1] & Pick<BackgroundJobWorkerOptions, 'storeSuccessfulJobs'>;

export interface OutcomeCounts {
  succeeded: number;
  failed: number;
  abandoned: number;
  /** Results not written because another worker held the row by then, or it was gone. */
  refused: number;
}

/**
 * Turns each job's outcome into its row's result, by ABP's rules: success deletes the row (or,
 * with StoreSuccessfulJobs, keeps it completed, with the job's result), a failure sets the next
 * try by the job's retry policy or ABP's rule (or abandons the job; at once when it threw
 * AbandonJobError), an interrupted job waits to be released. The results go to the ResultWriter
 * in batches; once written, the rows are no longer held.
 */
export class OutcomeRecorder {
  private readonly counts: OutcomeCounts = { succeeded: 0, failed: 0, abandoned: 0, refused: 0 };
  /** Rows whose jobs shutdown aborted: released, not failed. */
  private interrupted: ClaimedJob[] = [];

  constructor(
    private readonly store: BackgroundJobStore,
    private readonly results: ResultWriter,
    private readonly leases: LeaseKeeper,
    private readonly health: DatabaseHealth,
    private readonly options: OutcomeOptions,
    private readonly logger: LoggerService,
    private readonly lifecycle?: JobLifecycle,
    /** The job's own retry policy, when it has one. */
    private readonly retryPolicyFor: (jobName: string) => RetryPolicy | undefined = () => undefined,
  ) {}

  get totals(): Readonly<OutcomeCounts> {
    return this.counts;
  }

  /** Jobs that finished here and whose result is not written yet. */
  get unwritten(): number {
    return this.results.unwritten;
  }

  /** `durationMs`: how long the job ran (0: it did not run). */
  record(job: ClaimedJob, outcome: JobOutcome, abandon = false, durationMs = 0): void {
    switch (outcome.kind) {
      case 'succeeded':
        this.counts.succeeded++;
        if (this.options.storeSuccessfulJobs) {
          this.results.keep({
            id: job.id,
            leaseToken: job.leaseToken,
            completionTime: new Date(),
            extraProperties: withResult(job.extraProperties, outcome.result),
            newStamp: newConcurrencyStamp(),
          });
        } else {
          this.results.complete(job.leaseToken, job.id);
        }
        this.lifecycle?.jobEnded(
          outcome.result === undefined
            ? { job, outcome: 'succeeded', durationMs }
            : { job, outcome: 'succeeded', durationMs, result: outcome.result },
        );
        return;
      case 'cancelled': {
        const now = new Date();
        this.counts.abandoned++;
        this.logger.warn(
          `Cancelled job ${job.id} (${job.jobName}) on try ${job.tryCount}${outcome.error.requestedBy ? ` at the request of ${outcome.error.requestedBy}` : ''}`,
        );
        this.results.fail({
          id: job.id,
          leaseToken: job.leaseToken,
          nextTryTime: null,
          extraProperties: withCancellation(job.extraProperties, outcome.error.requestedBy, job.tryCount, now),
          newStamp: newConcurrencyStamp(),
        });
        this.lifecycle?.jobEnded({ job, outcome: 'abandoned', durationMs, error: outcome.error });
        return;
      }
      case 'interrupted':
        this.interrupted.push(job);
        this.lifecycle?.jobEnded({ job, outcome: 'interrupted', durationMs, error: outcome.error });
        return;
      case 'broken':
      case 'failed': {
        const now = new Date();
        const giveUp = outcome.kind === 'broken' || abandon || isAbandonJobError(outcome.error);
        const next = giveUp ? null : nextTryTime(job, this.options, now, this.retryPolicyFor(job.jobName));
        if (next === null) {
          this.counts.abandoned++;
          this.logger.error(
            `Abandoned job ${job.id} (${job.jobName}) after try ${job.tryCount}: ${describeError(outcome.error)}`,
          );
        } else {
          this.counts.failed++;
          this.logger.warn(
            `Job ${job.id} (${job.jobName}) failed on try ${job.tryCount}; next try at ${next.toISOString()}: ${describeError(outcome.error)}`,
          );
        }
        this.results.fail({
          id: job.id,
          leaseToken: job.leaseToken,
          nextTryTime: next,
          extraProperties: withLastError(job.extraProperties, outcome.error, job.tryCount, now),
          newStamp: newConcurrencyStamp(),
        });
        this.lifecycle?.jobEnded(
          next === null
            ? { job, outcome: 'abandoned', durationMs, error: outcome.error }
            : { job, outcome: 'failed', durationMs, error: outcome.error, nextTryTime: next },
        );
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
    if (nextTryTime(lostTry, this.options, now, this.retryPolicyFor(job.jobName)) !== null) return false;
    this.record(
      job,
      { kind: 'failed', error: new Error(`Try ${lostTry.tryCount} was lost: its worker stopped while running it`) },
      true,
    );
    return true;
  }

  /** The ResultWriter wrote these rows' results; the rows are no longer this worker's. */
  resultsWritten(written: WrittenResults): void {
    this.leases.forget(written.ids);
    this.health.succeeded(written.startedAt);
    if (written.refused > 0) void this.explainRefused(written);
  }

  /**
   * A result write changed fewer rows than it named. Each row is looked up before anything is
   * said: after a retried write, a row already deleted or already carrying the new stamp was
   * written by the attempt whose answer was lost, which is no news; only a row another worker
   * holds, or one deleted while this worker's lease could have ended, is warned about.
   */
  private async explainRefused(written: WrittenResults): Promise<void> {
    const tokens = new Map([...(written.failures ?? []), ...(written.kept ?? [])].map((f) => [f.id, f]));
    const tokenOf = (id: string) => written.completed?.leaseToken ?? tokens.get(id)?.leaseToken ?? '';
    let standing: Map<string, RowStanding>;
    try {
      standing = await lookUpRows(this.store, written.ids, tokenOf);
    } catch (error) {
      this.counts.refused += written.refused;
      this.logger.warn(
        `${written.refused} job result(s) not written, and the rows could not be read to say why: ${describeError(error)}`,
      );
      return;
    }
    const takenOver: string[] = [];
    const gone: string[] = [];
    const changed: string[] = [];
    for (const [id, row] of standing) {
      if (row.kind === 'other-worker') takenOver.push(id);
      else if (row.kind === 'gone' && !this.deletedByOwnEarlierAttempt(written, tokenOf(id))) gone.push(id);
      else if (row.kind === 'released' && row.stamp !== tokens.get(id)?.newStamp) changed.push(id);
    }
    const unchecked = Math.max(written.refused - standing.size, 0);
    this.counts.refused += takenOver.length + gone.length + changed.length + unchecked;
    if (takenOver.length > 0) {
      this.logger.warn(
        `${takenOver.length} job result(s) not written: their lease had passed to another worker (${takenOver.join(', ')})`,
      );
    }
    if (gone.length > 0) {
      this.logger.warn(
        `${gone.length} job result(s) not written: the row was deleted first, by a person or by another worker after this worker's lease ended (${gone.join(', ')})`,
      );
    }
    if (changed.length > 0) {
      this.logger.warn(
        `${changed.length} job result(s) not written: the row was changed first by someone else, e.g. requeued (${changed.join(', ')})`,
      );
    }
    if (unchecked > 0) this.logger.warn(`${unchecked} more job result(s) not written (not looked up)`);
  }

  /**
   * A retried DELETE finds the row gone. While this worker's lease had not ended, no other worker
   * could claim the row, so the attempt whose answer was lost deleted it.
   */
  private deletedByOwnEarlierAttempt(written: WrittenResults, leaseToken: string): boolean {
    return (
      written.retried && written.completed !== undefined && this.leases.heldUntilAtLeast(leaseToken, written.startedAt)
    );
  }

  /** Empties the list of rows whose jobs shutdown aborted. */
  takeInterrupted(): ClaimedJob[] {
    return this.interrupted.splice(0);
  }

  /** At shutdown: writes what is still pending, retrying with a growing pause; what stays unwritten runs again after its lease. */
  async writeRemaining(attempts: number): Promise<void> {
    for (let i = 0; i < attempts && this.results.unwritten > 0; i++) {
      await this.results.flush();
      if (this.results.unwritten > 0) await new Promise((r) => setTimeout(r, 200 * (i + 1)));
    }
    if (this.results.pending > 0) {
      this.logger.warn(
        `${this.results.pending} job result(s) could not be written; those jobs run again when their lease ends`,
      );
    }
  }
}

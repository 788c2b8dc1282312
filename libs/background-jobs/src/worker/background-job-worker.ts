import { Logger, LoggerService } from '@nestjs/common';
import { BackgroundJobWorkerOptions } from '../background-jobs.options';
import type { JobCancelledError } from '../cancellation/job-cancelled.error';
import type { ClaimedJob } from '../store/background-job-record';
import { BackgroundJobStore, WorkNotifier } from '../store/background-job-store';
import { DatabaseHealth } from './database-health';
import type { JobNameSource } from './dedicated-workers';
import type { JobLifecycle } from './job-lifecycle';
import { JobExecutor } from './job-executor';
import { JobRunner } from './job-runner';
import { LeaseKeeper } from './lease-keeper';
import { LocalQueue } from './local-queue';
import { LocalQueueSize } from './local-queue-size';
import { OutcomeRecorder } from './outcome-recorder';
import { QueueFiller } from './queue-filler';
import { ResultWriter } from './result-writer';
import { WakeableSleep } from './wakeable-sleep';

/** Attempts at writing the last results at shutdown. */
const FINAL_WRITE_ATTEMPTS = 5;

export interface WorkerSummary {
  succeeded: number;
  failed: number;
  abandoned: number;
  released: number;
  /** Results not written because another worker held the row by then, or it was gone. */
  refused: number;
}

type WorkerState = 'created' | 'running' | 'stopping' | 'stopped';

export interface WorkerParts {
  queue: LocalQueue;
  filler: QueueFiller;
  executor: JobExecutor;
  leases: LeaseKeeper;
  outcomes: OutcomeRecorder;
  results: ResultWriter;
  health: DatabaseHealth;
  /** Push wake-ups from the database (PostgreSQL's LISTEN), when it has them. */
  notifier?: WorkNotifier;
  logger: LoggerService;
}

/**
 * The executor loop, from its parts: the QueueFiller claims due rows of its own job names into
 * the LocalQueue, the JobExecutor runs up to MaxParallelJobExecutionCount of them at once, the
 * OutcomeRecorder turns outcomes into results that the ResultWriter writes in batches, and the
 * LeaseKeeper renews the leases of every row held and releases what this worker will not finish.
 * No database transaction stays open while a job runs.
 */
export class BackgroundJobWorker {
  private state: WorkerState = 'created';

  constructor(private readonly parts: WorkerParts) {}

  /** When the claim loop last went round (Date.now()); undefined before it started. */
  get lastClaimLoopTickAt(): number | undefined {
    return this.parts.filler.lastTickAt;
  }

  /** Jobs running now. */
  get runningJobCount(): number {
    return this.parts.executor.runningCount;
  }

  async start(): Promise<void> {
    if (this.state !== 'created') return; // stopped before it started
    this.state = 'running';
    const { filler, leases, health, notifier } = this.parts;
    filler.start();
    leases.startRenewing();
    await notifier?.subscribe(
      () => this.wake(),
      (connected, error) =>
        connected ? health.succeeded() : health.failed(error ?? new Error('notification connection closed'), true),
    );
  }

  /** Something may be due now: claim at once if there is room, else as soon as there is. */
  wake(): void {
    this.parts.filler.wake();
  }

  /** The rows this worker holds (claimed, their result not yet written): the ones a cancel request can reach. */
  heldJobs(): Iterable<ClaimedJob> {
    return this.parts.leases.heldJobs();
  }

  /** Aborts a running job, or drops a queued one, as cancelled; false when it is neither (see JobExecutor.cancel). */
  cancel(id: string, error: JobCancelledError): boolean {
    return this.parts.executor.cancel(id, error);
  }

  /**
   * Stops claiming, releases the rows that never started (their try undone), lets running jobs
   * finish within `timeoutMs`, aborts the rest and releases their rows, then writes the last results.
   */
  async stop(timeoutMs: number): Promise<WorkerSummary> {
    const { queue, filler, executor, leases, outcomes, results, notifier } = this.parts;
    this.state = 'stopping';
    executor.stopStartingJobs();
    const claimsDone = filler.stop();
    await notifier?.unsubscribe().catch(() => undefined);
    await claimsDone;
    await leases.release(queue.takeAll(), true);
    await executor.finishRunning(timeoutMs);
    await leases.release(outcomes.takeInterrupted(), false);
    await outcomes.writeRemaining(FINAL_WRITE_ATTEMPTS);
    leases.stopRenewing();
    results.dispose();
    this.state = 'stopped';
    return { ...outcomes.totals, released: leases.released };
  }
}

/**
 * Builds a worker and its parts for one store; `jobNames`: the job names it claims (a source is
 * read at every claim). `notifier`: the store's, or one shared by the workers of a process.
 */
export function createBackgroundJobWorker(
  store: BackgroundJobStore,
  runner: JobRunner,
  options: BackgroundJobWorkerOptions,
  jobNames: string[] | JobNameSource,
  logger: LoggerService = new Logger('BackgroundJobWorker'),
  lifecycle?: JobLifecycle,
  notifier: WorkNotifier | undefined = store.notifier,
): BackgroundJobWorker {
  const health = new DatabaseHealth(logger, (error) => store.isUnavailable(error));
  const queue = new LocalQueue(new LocalQueueSize(options.maxParallelJobExecutionCount, options.maxJobFetchCount));
  const leases = new LeaseKeeper(store, options.jobLeaseDuration, health, logger);
  const results = new ResultWriter(
    store,
    (written) => {
      outcomes.resultsWritten(written);
      executor.startQueuedJobs(); // back-pressure: slots held back for unwritten results are free again
    },
    (error) => health.failed(error),
  );
  const outcomes = new OutcomeRecorder(store, results, leases, health, options, logger, lifecycle, (jobName) =>
    runner.retryPolicyFor(jobName),
  );
  const executor = new JobExecutor(
    runner,
    queue,
    outcomes,
    options.maxParallelJobExecutionCount,
    () => filler.claimIfBelowThreshold(),
    logger,
    lifecycle,
  );
  const names = Array.isArray(jobNames) ? { current: jobNames } : jobNames;
  const filler = new QueueFiller(store, queue, leases, health, new WakeableSleep(), options, names, () =>
    executor.startQueuedJobs(),
  );
  return new BackgroundJobWorker({
    queue,
    filler,
    executor,
    leases,
    outcomes,
    results,
    health,
    notifier,
    logger,
  });
}

import { LoggerService } from '@nestjs/common';
import type { JobCancelledError } from '../cancellation/job-cancelled.error';
import type { ClaimedJob } from '../store/background-job-record';
import { JobAbort } from './job-abort';
import type { JobLifecycle } from './job-lifecycle';
import { JobOutcome, JobRunner, WorkerShutdownError } from './job-runner';
import { LocalQueue } from './local-queue';
import { OutcomeRecorder } from './outcome-recorder';

/**
 * Jobs per slot that may be running or finished with their result not yet written. Results are
 * written in batches; a worker killed at any moment makes at most MaxParallelJobExecutionCount
 * times this many jobs run again (the ones it ran or was running whose rows it had not deleted).
 */
export const UNWRITTEN_RESULTS_PER_SLOT = 4;

/** 'starting-jobs': takes rows from the local queue while a slot is free; 'draining': starts none, lets running ones end. */
type ExecutorState = 'starting-jobs' | 'draining';

/**
 * Runs jobs from the local queue, up to MaxParallelJobExecutionCount at once; each outcome goes to
 * the OutcomeRecorder and frees its slot for the next row. No promise of its own per run (the
 * runner calls back), no timer per job: this is the path every job takes. Back-pressure: no job
 * starts while the running jobs and the results not yet written reach UNWRITTEN_RESULTS_PER_SLOT
 * per slot; it goes on once a write has come back (`startQueuedJobs` again).
 */
export class JobExecutor {
  private state: ExecutorState = 'starting-jobs';
  private readonly running = new Map<string, JobAbort>();
  /** Called when the last running job ends, while finishRunning waits for that. */
  private whenIdle?: () => void;
  private readonly maxUnwritten: number;

  constructor(
    private readonly runner: JobRunner,
    private readonly queue: LocalQueue,
    private readonly outcomes: OutcomeRecorder,
    private readonly maxParallel: number,
    /** Called after each round of starting jobs: the queue may now want a refill. */
    private readonly afterJobsStarted: () => void,
    private readonly logger: LoggerService,
    private readonly lifecycle?: JobLifecycle,
  ) {
    this.maxUnwritten = UNWRITTEN_RESULTS_PER_SLOT * maxParallel;
  }

  get runningCount(): number {
    return this.running.size;
  }

  startQueuedJobs(): void {
    while (
      this.state === 'starting-jobs' &&
      this.running.size < this.maxParallel &&
      this.running.size + this.outcomes.unwritten < this.maxUnwritten
    ) {
      const job = this.queue.next();
      if (!job) break;
      if (job.previousLeaseExpired && this.outcomes.abandonIfLostTryWasLast(job)) continue;
      const abort = new JobAbort();
      const started = performance.now();
      this.lifecycle?.jobStarted(job);
      this.running.set(job.id, abort);
      const lifecycle = this.lifecycle;
      this.runner.start(
        job,
        abort,
        (outcome) => this.finish(job, outcome, started),
        lifecycle ? (call) => lifecycle.runJob(job, call) : undefined,
      );
    }
    this.afterJobsStarted();
  }

  private finish(job: ClaimedJob, outcome: JobOutcome, started: number): void {
    const durationMs = performance.now() - started;
    this.queue.recordJobDuration(durationMs);
    this.running.delete(job.id);
    this.outcomes.record(job, outcome, false, durationMs);
    if (this.running.size === 0 && this.whenIdle) {
      this.whenIdle();
      this.whenIdle = undefined;
    }
    this.startQueuedJobs();
  }

  /**
   * Cancels a job this worker holds: a running one is aborted (its AbortSignal fires with `error`),
   * a queued one is dropped unstarted; both end abandoned as cancelled. False when the job is
   * neither (its result is being written: it ends as it ended).
   */
  cancel(id: string, error: JobCancelledError): boolean {
    const abort = this.running.get(id);
    if (abort) {
      abort.abort(error);
      return true;
    }
    const queued = this.queue.remove(id);
    if (!queued) return false;
    this.outcomes.record(queued, { kind: 'cancelled', error });
    return true;
  }

  stopStartingJobs(): void {
    this.state = 'draining';
  }

  /** Waits up to `timeoutMs` for the running jobs, then aborts the rest (they end as interrupted). */
  async finishRunning(timeoutMs: number): Promise<void> {
    const finished =
      this.running.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => (this.whenIdle = resolve));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const first = await Promise.race([finished, deadline]);
    clearTimeout(timer);
    if (first !== 'timeout') return;
    this.logger.warn(`${this.running.size} job(s) still running after ${timeoutMs} ms; aborting them`);
    for (const abort of [...this.running.values()]) abort.abort(new WorkerShutdownError());
    await finished;
  }
}

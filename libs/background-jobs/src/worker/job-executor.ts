import { LoggerService } from '@nestjs/common';
import type { JobCancelledError } from '../cancellation/job-cancelled.error';
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
 * the OutcomeRecorder and frees its slot for the next row. One promise per run (the runner's),
 * no timer per job: this is the path every job takes. Back-pressure: no job starts while the
 * running jobs and the results not yet written reach UNWRITTEN_RESULTS_PER_SLOT per slot; it goes
 * on once a write has come back (`startQueuedJobs` again).
 */
export class JobExecutor {
  private state: ExecutorState = 'starting-jobs';
  private readonly running = new Map<string, { abort: JobAbort; done: Promise<void> }>();
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
      const finish = (outcome: JobOutcome) => {
        const durationMs = performance.now() - started;
        this.queue.recordJobDuration(durationMs);
        this.running.delete(job.id);
        this.outcomes.record(job, outcome, false, durationMs);
        this.startQueuedJobs();
      };
      // Listeners may run the job in a context of their own (a trace span, a logger); `then` is
      // attached out here, so what follows the job (its result, the next start) stays outside it.
      const run = () => this.runner.run(job, abort);
      const done = (this.lifecycle ? this.lifecycle.runJob(job, run) : run()).then(finish, (error: unknown) =>
        finish({ kind: 'failed', error }),
      );
      this.running.set(job.id, { abort, done });
    }
    this.afterJobsStarted();
  }

  /**
   * Cancels a job this worker holds: a running one is aborted (its AbortSignal fires with `error`),
   * a queued one is dropped unstarted; both end abandoned as cancelled. False when the job is
   * neither (its result is being written: it ends as it ended).
   */
  cancel(id: string, error: JobCancelledError): boolean {
    const run = this.running.get(id);
    if (run) {
      run.abort.abort(error);
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
    const finished = Promise.all([...this.running.values()].map((r) => r.done));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const first = await Promise.race([finished, deadline]);
    clearTimeout(timer);
    if (first !== 'timeout') return;
    this.logger.warn(`${this.running.size} job(s) still running after ${timeoutMs} ms; aborting them`);
    for (const run of this.running.values()) run.abort.abort(new WorkerShutdownError());
    await finished;
  }
}

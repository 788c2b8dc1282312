import { Injectable, Logger } from '@nestjs/common';
import type { ClaimedJob } from '../store/background-job-record';
import type { EnqueueBatch } from '../store/background-job-store';

/** How a run ended: 'failed' will be tried again, 'abandoned' will not, 'interrupted' was stopped by shutdown and released. */
export type JobEndOutcome = 'succeeded' | 'failed' | 'abandoned' | 'interrupted';

export interface JobEnded {
  job: ClaimedJob;
  outcome: JobEndOutcome;
  /** Run time; 0 for a row abandoned without running (its previous worker lost the last try). */
  durationMs: number;
  /** What the job threw, for every outcome but 'succeeded'. */
  error?: unknown;
  /** When a 'failed' job runs next. */
  nextTryTime?: Date;
  /** What a 'succeeded' job returned, when not undefined. */
  result?: unknown;
}

/** The jobs one enqueue call is about to write: ids and names, never args. */
export type EnqueuedJobs = ReadonlyArray<{ readonly id: string; readonly jobName: string }>;

/**
 * Writes the enqueue's rows; `extraProperties` go into every row's ExtraProperties (ABP's
 * extra-properties dictionary). Resolves with the enqueue's result once the rows are written.
 */
export type EnqueueSend<T> = (extraProperties?: Readonly<Record<string, string>>) => Promise<T>;

/**
 * What metrics, traces and job events listen to: the enqueue, in any process, and each job's start
 * and end in a worker. Called on the job path: keep it cheap.
 */
export interface JobLifecycleListener {
  jobStarted?(job: ClaimedJob): void;
  jobEnded?(ended: JobEnded): void;
  /** At shutdown, once the workers stopped: finish what the listener deferred (bounded by the listener). */
  drain?(): Promise<void>;
  /** The rows of an enqueue were written (called once per write that committed). */
  jobsEnqueued?(batch: EnqueueBatch): void;
  /**
   * Runs around one enqueue call (with its retries): must call `send` once and return what it
   * returns; may hand it extra properties to store on the rows (a trace context).
   */
  aroundEnqueue?<T>(jobs: EnqueuedJobs, send: EnqueueSend<T>): Promise<T>;
  /**
   * Runs around one job's run (a trace span, a logger context): must call `run` once, synchronously,
   * and return what it returns. Listeners added first run outermost.
   */
  aroundJob?<T>(job: ClaimedJob, run: () => T): T;
}

/**
 * Where a job's life is reported: its enqueue (BackgroundJobManager) and, in a worker, its start,
 * run and end (JobExecutor, OutcomeRecorder). One provider per app, exported by
 * BackgroundJobsModule. A listener that throws is logged and never changes the job's outcome nor
 * fails the enqueue.
 */
@Injectable()
export class JobLifecycle {
  private readonly logger = new Logger('BackgroundJobLifecycle');
  private listeners: JobLifecycleListener[] = [];
  private enqueueWrappers: JobLifecycleListener[] = [];
  private jobWrappers: JobLifecycleListener[] = [];

  /** Adds a listener; returns the function that removes it. */
  listen(listener: JobLifecycleListener): () => void {
    this.update([...this.listeners, listener]);
    return () => this.update(this.listeners.filter((l) => l !== listener));
  }

  jobStarted(job: ClaimedJob): void {
    for (const l of this.listeners) if (l.jobStarted) this.safely(() => l.jobStarted!(job));
  }

  jobEnded(ended: JobEnded): void {
    for (const l of this.listeners) if (l.jobEnded) this.safely(() => l.jobEnded!(ended));
  }

  /** Called once the workers have stopped: waits for every listener's drain(); one that fails is logged. */
  async drain(): Promise<void> {
    await Promise.all(
      this.listeners.map(async (l) => {
        try {
          await l.drain?.();
        } catch (error) {
          this.logger.warn(`A job lifecycle listener failed to drain: ${String(error)}`);
        }
      }),
    );
  }

  jobsEnqueued(batch: EnqueueBatch): void {
    for (const l of this.listeners) if (l.jobsEnqueued) this.safely(() => l.jobsEnqueued!(batch));
  }

  /** Runs `send` inside every listener's aroundEnqueue, with the extra properties they gave merged. */
  enqueue<T>(jobs: EnqueuedJobs, send: EnqueueSend<T>): Promise<T> {
    const wrappers = this.enqueueWrappers;
    if (wrappers.length === 0) return send();
    const step = (index: number, extra: Record<string, string> | undefined): Promise<T> => {
      if (index === wrappers.length) return send(extra);
      let sent = false;
      const next: EnqueueSend<T> = (more) => {
        sent = true;
        return step(index + 1, more ? { ...extra, ...more } : extra);
      };
      try {
        return wrappers[index].aroundEnqueue!(jobs, next);
      } catch (error) {
        this.logger.warn(`A job lifecycle listener threw around an enqueue: ${String(error)}`);
        if (sent) throw error;
        return next();
      }
    };
    return step(0, undefined);
  }

  /** Runs `run` inside every listener's aroundJob; with none, just runs it. */
  runJob<T>(job: ClaimedJob, run: () => T): T {
    const wrappers = this.jobWrappers;
    if (wrappers.length === 0) return run();
    const step = (index: number): T => {
      if (index === wrappers.length) return run();
      let ran = 'no' as 'no' | 'returned' | 'threw';
      let result: T | undefined;
      const next = () => {
        ran = 'threw';
        result = step(index + 1);
        ran = 'returned';
        return result;
      };
      try {
        return wrappers[index].aroundJob!(job, next);
      } catch (error) {
        if (ran === 'threw') throw error; // the run's own error, passed through
        this.logger.warn(`A job lifecycle listener threw around a job: ${String(error)}`);
        return ran === 'returned' ? result! : next();
      }
    };
    return step(0);
  }

  private update(listeners: JobLifecycleListener[]): void {
    this.listeners = listeners;
    this.enqueueWrappers = listeners.filter((l) => l.aroundEnqueue !== undefined);
    this.jobWrappers = listeners.filter((l) => l.aroundJob !== undefined);
  }

  private safely(call: () => void): void {
    try {
      call();
    } catch (error) {
      this.logger.warn(`A job lifecycle listener threw: ${String(error)}`);
    }
  }
}

import { Injectable, Logger } from '@nestjs/common';
import type { ClaimedJob } from '../store/background-job-record';

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

/** What metrics, traces and job events listen to in a worker process. Called on the job path: keep it cheap. */
export interface JobLifecycleListener {
  jobStarted?(job: ClaimedJob): void;
  jobEnded?(ended: JobEnded): void;
  /** At shutdown, once the workers stopped: finish what the listener deferred (bounded by the listener). */
  drain?(): Promise<void>;
}

/**
 * The worker's job path reports here when a job starts and ends (one provider per app, exported
 * by BackgroundJobsModule). A listener that throws is logged and never changes the job's outcome.
 */
@Injectable()
export class JobLifecycle {
  private readonly logger = new Logger('BackgroundJobLifecycle');
  private listeners: JobLifecycleListener[] = [];

  /** Adds a listener; returns the function that removes it. */
  listen(listener: JobLifecycleListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
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

  private safely(call: () => void): void {
    try {
      call();
    } catch (error) {
      this.logger.warn(`A job lifecycle listener threw: ${String(error)}`);
    }
  }
}

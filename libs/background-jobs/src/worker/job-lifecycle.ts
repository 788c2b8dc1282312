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
}

/** What metrics, traces and job events listen to in a worker process. Called on the job path: keep it cheap. */
export interface JobLifecycleListener {
  jobStarted?(job: ClaimedJob): void;
  jobEnded?(ended: JobEnded): void;
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

  private safely(call: () => void): void {
    try {
      call();
    } catch (error) {
      this.logger.warn(`A job lifecycle listener threw: ${String(error)}`);
    }
  }
}

import type { BackgroundJobEventName } from './on-background-job-event.decorator';

/** What an @OnBackgroundJobEvent handler gets. */
export interface BackgroundJobEvent {
  event: BackgroundJobEventName;
  jobId: string;
  jobName: string;
  /** The job's args, parsed from their JSON (a plain object); the text itself when it is not JSON. */
  readonly args: unknown;
  /** 1 on the first try. */
  tryCount: number;
  /** How long the try ran; 0 for a job abandoned without running (its last try was lost with its worker). */
  durationMs: number;
  /** What the try threw ('failed', 'retrying', 'abandoned'). */
  error?: unknown;
  /** What the job returned ('succeeded'), when not undefined. */
  result?: unknown;
  /** When the job runs next ('retrying'). */
  nextTryTime?: Date;
}

/** A handler found on a provider, with a name for log lines. */
export interface BackgroundJobEventHandler {
  event: BackgroundJobEventName;
  /** "ClassName.methodName". */
  name: string;
  handle(event: BackgroundJobEvent): unknown;
}

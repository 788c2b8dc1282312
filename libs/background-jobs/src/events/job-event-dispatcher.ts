import { Logger, LoggerService } from '@nestjs/common';
import type { JobEnded, JobLifecycleListener } from '../worker/job-lifecycle';
import { describeError } from '../worker/last-error';
import type { BackgroundJobEvent, BackgroundJobEventHandler } from './background-job-event';
import type { BackgroundJobEventName } from './on-background-job-event.decorator';

/** How long shutdown waits for handlers still running once the workers have stopped. */
export const EVENT_DRAIN_TIMEOUT_MS = 5000;

/** The events a run's end gives, in order. */
function eventsOf(ended: JobEnded): BackgroundJobEventName[] {
  switch (ended.outcome) {
    case 'succeeded':
      return ['succeeded'];
    case 'failed':
      return ['failed', 'retrying'];
    case 'abandoned':
      return ['failed', 'abandoned'];
    default:
      return []; // interrupted by shutdown: released, runs again
  }
}

/**
 * Turns the job lifecycle's ends into @OnBackgroundJobEvent calls. On the job's path it only
 * queues them (the outcome is decided by then); they run on a later turn of the event loop
 * (setImmediate), one batch per turn. A handler that throws or rejects is logged and changes
 * nothing. Async handlers run beside the jobs; drain() (at shutdown) waits for them a while.
 */
export class JobEventDispatcher implements JobLifecycleListener {
  private readonly byEvent = new Map<BackgroundJobEventName, BackgroundJobEventHandler[]>();
  private queue: Array<() => void> = [];
  private scheduled = false;
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    handlers: BackgroundJobEventHandler[],
    private readonly logger: LoggerService = new Logger('BackgroundJobEvents'),
  ) {
    for (const handler of handlers) {
      const list = this.byEvent.get(handler.event) ?? [];
      list.push(handler);
      this.byEvent.set(handler.event, list);
    }
  }

  jobEnded(ended: JobEnded): void {
    let args: { value: unknown } | undefined;
    const argsOf = () => (args ??= { value: parseArgs(ended.job.jobArgs) }).value;
    for (const name of eventsOf(ended)) {
      const handlers = this.byEvent.get(name);
      if (!handlers) continue;
      const event = eventFrom(name, ended, argsOf);
      for (const handler of handlers) this.queue.push(() => this.call(handler, event));
    }
    if (this.queue.length > 0 && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.runQueued());
    }
  }

  /** Runs what is queued and waits up to EVENT_DRAIN_TIMEOUT_MS for the handlers still running. */
  async drain(timeoutMs = EVENT_DRAIN_TIMEOUT_MS): Promise<void> {
    this.runQueued();
    if (this.running.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const done = await Promise.race([Promise.allSettled([...this.running]), deadline]);
    clearTimeout(timer);
    if (done === 'timeout')
      this.logger.warn(`${this.running.size} background job event handler(s) still running after ${timeoutMs} ms`);
  }

  private runQueued(): void {
    this.scheduled = false;
    const queued = this.queue;
    this.queue = [];
    for (const call of queued) call();
  }

  private call(handler: BackgroundJobEventHandler, event: BackgroundJobEvent): void {
    try {
      const returned = handler.handle(event);
      if (isThenable(returned)) {
        const running = Promise.resolve(returned).then(
          () => undefined,
          (error: unknown) => this.failed(handler, event, error),
        );
        this.running.add(running);
        void running.finally(() => this.running.delete(running));
      }
    } catch (error) {
      this.failed(handler, event, error);
    }
  }

  private failed(handler: BackgroundJobEventHandler, event: BackgroundJobEvent, error: unknown): void {
    this.logger.error(
      `The '${event.event}' handler ${handler.name} failed for job ${event.jobId} (${event.jobName}): ${describeError(error)}`,
    );
  }
}

/** One event of a run's end; `argsOf` parses the args once, when a handler first reads them. */
function eventFrom(name: BackgroundJobEventName, ended: JobEnded, argsOf: () => unknown): BackgroundJobEvent {
  const { job } = ended;
  return {
    event: name,
    jobId: job.id,
    jobName: job.jobName,
    get args(): unknown {
      return argsOf();
    },
    tryCount: job.tryCount,
    durationMs: ended.durationMs,
    ...(ended.error !== undefined ? { error: ended.error } : {}),
    ...(ended.result !== undefined ? { result: ended.result } : {}),
    ...(name === 'retrying' && ended.nextTryTime ? { nextTryTime: ended.nextTryTime } : {}),
  };
}

function parseArgs(jobArgs: string): unknown {
  try {
    return JSON.parse(jobArgs);
  } catch {
    return jobArgs;
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

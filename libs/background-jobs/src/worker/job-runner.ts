import { BackgroundJobRegistry, RegisteredBackgroundJob } from '../background-job.registry';
import { AsyncBackgroundJob, BackgroundJobContext } from '../async-background-job';
import { JobCancelledError } from '../cancellation/job-cancelled.error';
import { ClaimedJob } from '../store/background-job-record';
import { JobAbort } from './job-abort';
import { JobDeadlines } from './job-deadlines';
import type { RetryPolicy } from './retry-policy';

export type JobOutcome =
  /** `result`: what the job returned, when not undefined. */
  | { kind: 'succeeded'; result?: unknown }
  /** The job threw or timed out: retry by ABP's backoff. */
  | { kind: 'failed'; error: unknown }
  /** The row can never run (args unreadable, job not constructible): abandon now, as ABP does. */
  | { kind: 'broken'; error: unknown }
  /** Shutdown aborted it: release the row to other workers. */
  | { kind: 'interrupted'; error: unknown }
  /** Someone cancelled it (cancel(jobId)): abandon it, with LastError "cancelled". */
  | { kind: 'cancelled'; error: JobCancelledError };

export class JobTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`The job ran longer than its timeout of ${timeoutMs} ms and was aborted`);
    this.name = 'JobTimeoutError';
  }
}

export class WorkerShutdownError extends Error {
  constructor() {
    super('The worker is shutting down');
    this.name = 'WorkerShutdownError';
  }
}

const SUCCEEDED: JobOutcome = { kind: 'succeeded' };

/**
 * Runs one claimed job: builds its args and instance, runs it with an AbortSignal, and settles
 * when the job does or when the signal fires (a job that ignores its signal no longer holds a
 * slot). One promise per run besides the job's own: with many short jobs every extra promise and
 * microtask hop shows in the worker's CPU.
 */
export class JobRunner {
  private readonly deadlines = new JobDeadlines();

  constructor(
    private readonly registry: BackgroundJobRegistry,
    private readonly defaultTimeoutMs: number,
  ) {}

  /** The job's own retry policy (@BackgroundJob's `retry`), when it has one. */
  retryPolicyFor(jobName: string): RetryPolicy | undefined {
    return this.registry.findByName(jobName)?.retry;
  }

  run(job: ClaimedJob, abort: JobAbort): Promise<JobOutcome> {
    const registered = this.registry.findByName(job.jobName);
    if (!registered) {
      const error = new Error(`No job is registered for the job name "${job.jobName}"`);
      // Claimed just before its dynamic handler was unregistered here: another worker may still run it.
      return Promise.resolve(
        this.registry.wasUnregistered(job.jobName) ? { kind: 'failed', error } : { kind: 'broken', error },
      );
    }
    let args: object;
    try {
      args = parseArgs(job.jobArgs, registered.argsType.prototype as object);
    } catch (error) {
      return Promise.resolve({ kind: 'broken', error });
    }
    if (registered.instance) return this.execute(job, registered, registered.instance, args, abort);
    return registered.resolve().then(
      (instance) => this.execute(job, registered, instance, args, abort),
      (error: unknown): JobOutcome => ({ kind: 'broken', error }),
    );
  }

  private execute(
    job: ClaimedJob,
    registered: RegisteredBackgroundJob,
    instance: AsyncBackgroundJob<unknown>,
    args: object,
    abort: JobAbort,
  ): Promise<JobOutcome> {
    const timeoutMs = registered.timeoutMs ?? this.defaultTimeoutMs;
    const context: BackgroundJobContext = {
      jobId: job.id,
      jobName: job.jobName,
      tryCount: job.tryCount,
      get signal() {
        return abort.signal;
      },
    };
    return new Promise<JobOutcome>((resolve) => {
      let settled = false;
      const cancelDeadline =
        timeoutMs > 0 ? this.deadlines.start(timeoutMs, () => abort.abort(new JobTimeoutError(timeoutMs))) : undefined;
      const settle = (outcome: JobOutcome) => {
        if (settled) return;
        settled = true;
        cancelDeadline?.();
        resolve(outcome);
      };
      const failed = (error: unknown) => {
        const reason: unknown = abort.aborted ? abort.abortReason : error;
        settle(
          reason instanceof WorkerShutdownError
            ? { kind: 'interrupted', error: reason }
            : reason instanceof JobCancelledError
              ? { kind: 'cancelled', error: reason }
              : { kind: 'failed', error: reason },
        );
      };
      abort.onAbort(failed);
      const succeeded = (result: unknown) =>
        abort.aborted
          ? failed(abort.abortReason)
          : settle(result === undefined ? SUCCEEDED : { kind: 'succeeded', result });
      try {
        const returned: unknown = instance.execute(args, context);
        if (isThenable(returned)) returned.then(succeeded, failed);
        else succeeded(returned); // a plain (not async) execute that returned
      } catch (error) {
        failed(error); // an execute that threw before returning a promise
      }
    });
  }
}

function parseArgs(jobArgs: string, prototype: object): object {
  const parsed: unknown = JSON.parse(jobArgs);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`The job args are not a JSON object: ${jobArgs.slice(0, 200)}`);
  }
  return Object.assign(Object.create(prototype) as object, parsed);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

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
 * slot). See `start` for what runs where.
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

  /** `start` as a promise of the outcome (for callers off the hot path, and tests). */
  run(job: ClaimedJob, abort: JobAbort): Promise<JobOutcome> {
    return new Promise((resolve) => this.start(job, abort, resolve));
  }

  /**
   * Starts one job; `done` is called once with its outcome, never before `start` returns. Only
   * the job's own call runs inside `around` (a trace span, a logger context: JobLifecycle.runJob):
   * what follows the job, `done` and the next start, is attached out here and stays outside it.
   * Two promises per run (the job's own and one `then`): with many short jobs every extra promise
   * and microtask hop shows in the worker's CPU, the more so under async_hooks.
   */
  start(job: ClaimedJob, abort: JobAbort, done: (outcome: JobOutcome) => void, around: JobWrapper = callIt): void {
    const registered = this.registry.findByName(job.jobName);
    if (!registered) {
      const error = new Error(`No job is registered for the job name "${job.jobName}"`);
      // Claimed just before its dynamic handler was unregistered here: another worker may still run it.
      const outcome: JobOutcome = this.registry.wasUnregistered(job.jobName)
        ? { kind: 'failed', error }
        : { kind: 'broken', error };
      queueMicrotask(() => done(outcome));
      return;
    }
    let args: object;
    try {
      args = parseArgs(job.jobArgs, registered.argsType.prototype as object);
    } catch (error) {
      queueMicrotask(() => done({ kind: 'broken', error }));
      return;
    }
    if (registered.instance) {
      this.execute(job, registered, registered.instance, args, abort, done, around);
      return;
    }
    registered.resolve().then(
      (instance) => this.execute(job, registered, instance, args, abort, done, around),
      (error: unknown) => done({ kind: 'broken', error }),
    );
  }

  private execute(
    job: ClaimedJob,
    registered: RegisteredBackgroundJob,
    instance: AsyncBackgroundJob<unknown>,
    args: object,
    abort: JobAbort,
    done: (outcome: JobOutcome) => void,
    around: JobWrapper,
  ): void {
    const timeoutMs = registered.timeoutMs ?? this.defaultTimeoutMs;
    const context: BackgroundJobContext = {
      jobId: job.id,
      jobName: job.jobName,
      tryCount: job.tryCount,
      get signal() {
        return abort.signal;
      },
    };
    let settled = false;
    const cancelDeadline =
      timeoutMs > 0 ? this.deadlines.start(timeoutMs, () => abort.abort(new JobTimeoutError(timeoutMs))) : undefined;
    const settle = (outcome: JobOutcome) => {
      if (settled) return;
      settled = true;
      cancelDeadline?.();
      done(outcome);
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
    // An abort (timeout, cancel, shutdown) settles at once: a job that ignores its signal no longer holds a slot.
    abort.onAbort(failed);
    const succeeded = (result: unknown) =>
      abort.aborted
        ? failed(abort.abortReason)
        : settle(result === undefined ? SUCCEEDED : { kind: 'succeeded', result });
    let returned: unknown;
    try {
      returned = around(() => instance.execute(args, context));
    } catch (error) {
      queueMicrotask(() => failed(error)); // an execute that threw before returning a promise
      return;
    }
    if (!isThenable(returned)) {
      queueMicrotask(() => succeeded(returned)); // a plain (not async) execute that returned
      return;
    }
    try {
      returned.then(succeeded, failed);
    } catch (error) {
      queueMicrotask(() => failed(error)); // a thenable of the job's own whose then() threw
    }
  }
}

/** Runs the job's own call in a context (JobLifecycle.runJob for one job); must call `call` once, synchronously. */
export type JobWrapper = <T>(call: () => T) => T;

const callIt: JobWrapper = (call) => call();

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

import { BackgroundJobRegistry } from '../background-job.registry';
import { BackgroundJobContext } from '../async-background-job';
import { ClaimedJob } from '../store/background-job-record';
import { JobAbort } from './job-abort';

export type JobOutcome =
  | { kind: 'succeeded' }
  /** The job threw or timed out: retry by ABP's backoff. */
  | { kind: 'failed'; error: unknown }
  /** The row can never run (args unreadable, job not constructible): abandon now, as ABP does. */
  | { kind: 'broken'; error: unknown }
  /** Shutdown aborted it: release the row to other workers. */
  | { kind: 'interrupted'; error: unknown };

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

/**
 * Runs one claimed job: builds its args and instance, runs it with an AbortSignal, and settles
 * when the job does or when the signal fires (a job that ignores its signal no longer holds a slot).
 */
export class JobRunner {
  constructor(
    private readonly registry: BackgroundJobRegistry,
    private readonly defaultTimeoutMs: number,
  ) {}

  async run(job: ClaimedJob, abort: JobAbort): Promise<JobOutcome> {
    const registered = this.registry.findByName(job.jobName);
    if (!registered) return { kind: 'broken', error: new Error(`No job is registered for the job name "${job.jobName}"`) };
    let args: object;
    let instance;
    try {
      args = parseArgs(job.jobArgs, registered.argsType.prototype as object);
      instance = await registered.resolve();
    } catch (error) {
      return { kind: 'broken', error };
    }
    const timeoutMs = registered.timeout ?? this.defaultTimeoutMs;
    const timer = timeoutMs > 0 ? setTimeout(() => abort.abort(new JobTimeoutError(timeoutMs)), timeoutMs) : undefined;
    const context: BackgroundJobContext = {
      jobId: job.id,
      jobName: job.jobName,
      tryCount: job.tryCount,
      get signal() {
        return abort.signal;
      },
    };
    try {
      await abort.race(instance.execute(args, context));
      return { kind: 'succeeded' };
    } catch (error) {
      const reason: unknown = abort.aborted ? abort.abortReason : error;
      return reason instanceof WorkerShutdownError ? { kind: 'interrupted', error: reason } : { kind: 'failed', error: reason };
    } finally {
      clearTimeout(timer);
    }
  }
}

function parseArgs(jobArgs: string, prototype: object): object {
  const parsed: unknown = JSON.parse(jobArgs);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`The job args are not a JSON object: ${jobArgs.slice(0, 200)}`);
  }
  return Object.assign(Object.create(prototype) as object, parsed);
}

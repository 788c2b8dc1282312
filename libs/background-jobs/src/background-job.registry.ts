import { Injectable } from '@nestjs/common';
import { DuplicateBackgroundJobError, UndefinedBackgroundJobError } from './errors';
import { ArgsType, checkJobName } from './decorators/background-job-name.decorator';
import { AsyncBackgroundJob, BackgroundJobContext } from './async-background-job';
import type { RetryPolicy } from './worker/retry-policy';
import { checkRetryPolicy } from './worker/retry-policy';

export interface RegisteredBackgroundJob {
  jobName: string;
  argsType: ArgsType;
  jobTypeName: string;
  /** Milliseconds; undefined: the worker's default. */
  timeoutMs?: number;
  /** The job's own retry policy; undefined: ABP's rule with the worker's options. */
  retry?: RetryPolicy;
  /** Resolves the job instance (a new one for transient or request-scoped providers). */
  resolve(): Promise<AsyncBackgroundJob<unknown>>;
  /** The one instance of a singleton job, when there is one: used without resolving. */
  instance?: AsyncBackgroundJob<unknown>;
  /** Registered at run time by registerHandler() (ABP's dynamic handlers), not by a class. */
  dynamic?: boolean;
}

/**
 * ABP 10.3's `DynamicBackgroundJobHandler`, for a job with no class: gets the args as parsed from
 * their JSON (a plain object) and the run's context; what it returns (or resolves to) is the job's result.
 */
export type DynamicBackgroundJobHandler<TArgs = Record<string, unknown>> = (
  args: TArgs,
  context: BackgroundJobContext,
) => unknown;

/** What registerHandler() may say of a dynamic job, as @BackgroundJob says of a class. */
export interface DynamicBackgroundJobOptions {
  /** Milliseconds this job may run before it is aborted and counted as a failed try (0: no limit). */
  timeoutMs?: number;
  retry?: RetryPolicy;
}

/** Args of a dynamic job: plain objects, from their JSON. */
const PLAIN_ARGS: ArgsType = Object;

/**
 * ABP's job registry: one job per job name, one job name per args type, and ABP 10.3's dynamic
 * handlers by name. `version` changes with every registration, so the workers' job name lists
 * follow handlers registered or unregistered at run time.
 */
@Injectable()
export class BackgroundJobRegistry {
  private readonly byName = new Map<string, RegisteredBackgroundJob>();
  private readonly byArgsType = new Map<ArgsType, RegisteredBackgroundJob>();
  /** Dynamic job names unregistered in this process: a row of one claimed before that is retried, not abandoned. */
  private readonly unregistered = new Set<string>();
  private changes = 0;

  register(job: RegisteredBackgroundJob): void {
    const existing = this.byName.get(job.jobName) ?? this.byArgsType.get(job.argsType);
    if (existing) throw new DuplicateBackgroundJobError(job.jobName, existing.jobTypeName, job.jobTypeName);
    this.byName.set(job.jobName, job);
    this.byArgsType.set(job.argsType, job);
    this.changes++;
  }

  /**
   * ABP's RegisterHandler: runs `handler` for rows of `jobName`. Registering a name again replaces
   * its handler (as ABP does); a name a job class has is refused.
   */
  registerHandler(
    jobName: string,
    handler: DynamicBackgroundJobHandler,
    options: DynamicBackgroundJobOptions = {},
  ): void {
    checkJobName(jobName);
    if (typeof handler !== 'function')
      throw new TypeError(`The handler of the dynamic background job "${jobName}" is not a function`);
    const existing = this.byName.get(jobName);
    if (existing && !existing.dynamic)
      throw new DuplicateBackgroundJobError(jobName, existing.jobTypeName, 'a dynamic handler');
    if (options.retry !== undefined) checkRetryPolicy(options.retry, `The dynamic background job "${jobName}"`);
    const instance = { execute: handler } as unknown as AsyncBackgroundJob<unknown>;
    this.byName.set(jobName, {
      jobName,
      argsType: PLAIN_ARGS,
      jobTypeName: 'a dynamic handler',
      timeoutMs: options.timeoutMs,
      retry: options.retry,
      instance,
      resolve: async () => instance,
      dynamic: true,
    });
    this.unregistered.delete(jobName);
    this.changes++;
  }

  /** ABP's UnregisterHandler: true when a dynamic handler was registered for the name and is now gone. */
  unregisterHandler(jobName: string): boolean {
    if (!this.byName.get(jobName)?.dynamic) return false;
    this.byName.delete(jobName);
    this.unregistered.add(jobName);
    this.changes++;
    return true;
  }

  /** ABP's IsHandlerRegistered: a dynamic handler (not a job class) is registered for the name. */
  isHandlerRegistered(jobName: string): boolean {
    return this.byName.get(jobName)?.dynamic === true;
  }

  /** A dynamic handler of this name was unregistered here (and not registered again). */
  wasUnregistered(jobName: string): boolean {
    return this.unregistered.has(jobName);
  }

  /** Changes with every registration and unregistration. */
  get version(): number {
    return this.changes;
  }

  get jobNames(): string[] {
    return [...this.byName.keys()];
  }

  findByName(jobName: string): RegisteredBackgroundJob | undefined {
    return this.byName.get(jobName);
  }

  getByName(jobName: string): RegisteredBackgroundJob {
    const job = this.byName.get(jobName);
    if (!job) throw new UndefinedBackgroundJobError(jobName);
    return job;
  }

  getByArgs(args: object): RegisteredBackgroundJob {
    const job = this.byArgsType.get(args.constructor as ArgsType);
    if (!job) throw new UndefinedBackgroundJobError(args.constructor?.name ?? typeof args);
    return job;
  }
}

import { SetMetadata } from '@nestjs/common';
import { BACKGROUND_JOB_METADATA } from '../background-jobs.constants';
import { checkRetryPolicy, RetryPolicy } from '../worker/retry-policy';
import { ArgsType, getJobName } from './background-job-name.decorator';

export interface BackgroundJobOptions {
  /** Milliseconds this job may run before it is aborted and counted as a failed try (0: no limit). */
  timeoutMs?: number;
  /** @deprecated Use `timeoutMs` (the same value, in milliseconds). */
  timeout?: number;
  /**
   * This job's retries: `{ maxTries, backoff: 'abp' | 'exponential' | 'fixed', delayMs, factor }`
   * (see RetryPolicy). Without it, ABP's rule with the worker's DefaultFirstWaitDuration,
   * DefaultWaitFactor and DefaultTimeout.
   */
  retry?: RetryPolicy;
}

export interface BackgroundJobMetadata {
  argsType: ArgsType;
  /** Undefined: the worker's JobExecutionTimeout. */
  timeoutMs?: number;
  /** Undefined: ABP's rule with the worker's options. */
  retry?: RetryPolicy;
}

/**
 * Registers the decorated provider as the job for `argsType`, as ABP registers an
 * `AsyncBackgroundJob<TArgs>` for its TArgs. The class must also be a provider of a module.
 * A retry policy that could not mean anything is refused here, when the class is defined.
 */
export function BackgroundJob(argsType: ArgsType, options: BackgroundJobOptions = {}): ClassDecorator {
  if (options.retry !== undefined) checkRetryPolicy(options.retry, `The background job for "${getJobName(argsType)}"`);
  return SetMetadata<string, BackgroundJobMetadata>(BACKGROUND_JOB_METADATA, {
    argsType,
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- the deprecated alias is still honoured
    timeoutMs: options.timeoutMs ?? options.timeout,
    ...(options.retry !== undefined ? { retry: { ...options.retry } } : {}),
  });
}

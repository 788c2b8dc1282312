import { SetMetadata } from '@nestjs/common';
import { BACKGROUND_JOB_METADATA } from '../background-jobs.constants';
import { ArgsType } from './background-job-name.decorator';

export interface BackgroundJobOptions {
  /** Milliseconds this job may run before it is aborted and counted as a failed try (0: no limit). */
  timeoutMs?: number;
  /** @deprecated Use `timeoutMs` (the same value, in milliseconds). */
  timeout?: number;
}

export interface BackgroundJobMetadata {
  argsType: ArgsType;
  /** Undefined: the worker's JobExecutionTimeout. */
  timeoutMs?: number;
}

/**
 * Registers the decorated provider as the job for `argsType`, as ABP registers an
 * `AsyncBackgroundJob<TArgs>` for its TArgs. The class must also be a provider of a module.
 */
export function BackgroundJob(argsType: ArgsType, options: BackgroundJobOptions = {}): ClassDecorator {
  return SetMetadata<string, BackgroundJobMetadata>(BACKGROUND_JOB_METADATA, {
    argsType,
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- the deprecated alias is still honoured
    timeoutMs: options.timeoutMs ?? options.timeout,
  });
}

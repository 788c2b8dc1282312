import { SetMetadata } from '@nestjs/common';
import { BACKGROUND_JOB_METADATA } from '../background-jobs.constants';
import { ArgsType } from './background-job-name.decorator';

export interface BackgroundJobOptions {
  /** Milliseconds this job may run before it is aborted and counted as a failed try (0: no limit). */
  timeout?: number;
}

export interface BackgroundJobMetadata extends BackgroundJobOptions {
  argsType: ArgsType;
}

/**
 * Registers the decorated provider as the job for `argsType`, as ABP registers an
 * `AsyncBackgroundJob<TArgs>` for its TArgs. The class must also be a provider of a module.
 */
export function BackgroundJob(argsType: ArgsType, options: BackgroundJobOptions = {}): ClassDecorator {
  return SetMetadata<string, BackgroundJobMetadata>(BACKGROUND_JOB_METADATA, { argsType, ...options });
}

import { BackgroundJobWorkerOptions } from '../background-jobs.options';

type RetryOptions = Pick<BackgroundJobWorkerOptions, 'defaultFirstWaitDuration' | 'defaultWaitFactor' | 'defaultTimeout'>;

/**
 * ABP's `CalculateNextTryTime`: wait DefaultFirstWaitDuration * DefaultWaitFactor^(TryCount-1)
 * seconds after the last try; null (abandon) once that passes DefaultTimeout after creation.
 */
export function nextTryTime(
  job: { tryCount: number; lastTryTime: Date | null; creationTime: Date },
  options: RetryOptions,
  now: Date,
): Date | null {
  const waitSeconds = options.defaultFirstWaitDuration * Math.pow(options.defaultWaitFactor, Math.max(job.tryCount - 1, 0));
  const from = job.lastTryTime ?? now;
  const next = new Date(from.getTime() + waitSeconds * 1000);
  const sinceCreation = (next.getTime() - job.creationTime.getTime()) / 1000;
  if (!(sinceCreation <= options.defaultTimeout)) return null; // NaN (an unreadable time) abandons too
  return next;
}

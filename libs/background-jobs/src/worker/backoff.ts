import { BackgroundJobWorkerOptions } from '../background-jobs.options';
import { MAX_TRY_COUNT } from '../store/background-job-record';

type RetryOptions = Pick<
  BackgroundJobWorkerOptions,
  'defaultFirstWaitDuration' | 'defaultWaitFactor' | 'defaultTimeout'
>;

/**
 * ABP's `CalculateNextTryTime`: wait DefaultFirstWaitDuration * DefaultWaitFactor^(TryCount-1)
 * seconds after the last try; null (abandon) once that passes DefaultTimeout after creation, once
 * TryCount reaches its column's top (claims count no further), or when the wait is no number.
 */
export function nextTryTime(
  job: { tryCount: number; lastTryTime: Date | null; creationTime: Date },
  options: RetryOptions,
  now: Date,
): Date | null {
  if (!(job.tryCount < MAX_TRY_COUNT)) return null;
  const waitSeconds =
    options.defaultFirstWaitDuration * Math.pow(options.defaultWaitFactor, Math.max(job.tryCount - 1, 0));
  const from = job.lastTryTime ?? now;
  const next = from.getTime() + waitSeconds * 1000;
  // NaN (an unreadable time, Infinity * 0), Infinity, or past the last time a Date can hold: abandon.
  if (!Number.isFinite(next) || Number.isNaN(new Date(next).getTime())) return null;
  const sinceCreation = (next - job.creationTime.getTime()) / 1000;
  if (!(sinceCreation <= options.defaultTimeout)) return null;
  return new Date(next);
}

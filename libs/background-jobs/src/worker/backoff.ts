import { BackgroundJobWorkerOptions } from '../background-jobs.options';
import { MAX_TRY_COUNT } from '../store/background-job-record';
import type { RetryPolicy } from './retry-policy';

type RetryOptions = Pick<
  BackgroundJobWorkerOptions,
  'defaultFirstWaitDuration' | 'defaultWaitFactor' | 'defaultTimeout'
>;

/**
 * ABP's `CalculateNextTryTime`: wait DefaultFirstWaitDuration * DefaultWaitFactor^(TryCount-1)
 * seconds after the last try; null (abandon) once that passes DefaultTimeout after creation, once
 * TryCount reaches its column's top (claims count no further), or when the wait is no number.
 * A job's own `policy` changes the wait (see RetryPolicy), and with `maxTries` abandons after that
 * many tries instead of by DefaultTimeout.
 */
export function nextTryTime(
  job: { tryCount: number; lastTryTime: Date | null; creationTime: Date },
  options: RetryOptions,
  now: Date,
  policy?: RetryPolicy,
): Date | null {
  if (!(job.tryCount < MAX_TRY_COUNT)) return null;
  if (policy?.maxTries !== undefined && job.tryCount >= policy.maxTries) return null;
  const from = job.lastTryTime ?? now;
  const next = from.getTime() + waitMs(job.tryCount, options, policy);
  // NaN (an unreadable time, Infinity * 0), Infinity, or past the last time a Date can hold: abandon.
  if (!Number.isFinite(next) || Number.isNaN(new Date(next).getTime())) return null;
  if (policy?.maxTries === undefined) {
    const sinceCreation = (next - job.creationTime.getTime()) / 1000;
    if (!(sinceCreation <= options.defaultTimeout)) return null;
  }
  return new Date(next);
}

function waitMs(tryCount: number, options: RetryOptions, policy: RetryPolicy | undefined): number {
  const retries = Math.max(tryCount - 1, 0);
  switch (policy?.backoff ?? 'abp') {
    case 'fixed':
      return policy!.delayMs!;
    case 'exponential':
      return policy!.delayMs! * Math.pow(policy!.factor ?? 2, retries);
    default:
      if (policy?.delayMs === undefined && policy?.factor === undefined)
        return options.defaultFirstWaitDuration * Math.pow(options.defaultWaitFactor, retries) * 1000;
      return (
        (policy.delayMs ?? options.defaultFirstWaitDuration * 1000) *
        Math.pow(policy.factor ?? options.defaultWaitFactor, retries)
      );
  }
}

/** How the wait before a job's next try grows. */
export type BackoffKind = 'abp' | 'exponential' | 'fixed';

/**
 * A job's own retry policy (`@BackgroundJob(Args, { retry })`); a job without one follows ABP's
 * rule with the worker's options. The policy lives in code; the row records what happened
 * (TryCount, LastError) as for any job.
 */
export interface RetryPolicy {
  /**
   * Tries in all, the first included: the job is abandoned when this many have failed, whatever
   * its age. Without it, ABP's rule abandons a job whose next try would fall more than
   * DefaultTimeout after its creation.
   */
  maxTries?: number;
  /**
   * - 'abp' (the default): ABP's wait, DefaultFirstWaitDuration x DefaultWaitFactor^(TryCount-1),
   *   with `delayMs` and `factor` in place of the worker's options when given;
   * - 'exponential': `delayMs` x `factor`^(TryCount-1), `factor` 2 unless given;
   * - 'fixed': `delayMs` before every retry.
   */
  backoff?: BackoffKind;
  /** Milliseconds: the first wait ('abp', 'exponential') or every wait ('fixed'). */
  delayMs?: number;
  /** How much longer each wait is than the one before ('abp', 'exponential'). */
  factor?: number;
}

const BACKOFF_KINDS: readonly BackoffKind[] = ['abp', 'exponential', 'fixed'];

/** Throws a clear error, naming `owner`, for a policy that could not mean anything. */
export function checkRetryPolicy(policy: RetryPolicy, owner: string): void {
  const fail = (what: string) => {
    throw new Error(`${owner} has a retry policy whose ${what}`);
  };
  if (policy === null || typeof policy !== 'object') fail(`value is not an object: ${String(policy)}`);
  const { maxTries, backoff = 'abp', delayMs, factor } = policy;
  if (maxTries !== undefined && !(Number.isInteger(maxTries) && maxTries >= 1))
    fail(`maxTries is not a whole number of 1 or more: ${String(maxTries)}`);
  if (!BACKOFF_KINDS.includes(backoff)) fail(`backoff is not one of ${BACKOFF_KINDS.join(', ')}: ${String(backoff)}`);
  if (delayMs !== undefined && !(typeof delayMs === 'number' && delayMs >= 0 && Number.isFinite(delayMs)))
    fail(`delayMs is not a finite number of milliseconds, 0 or more: ${String(delayMs)}`);
  if (delayMs === undefined && backoff !== 'abp') fail(`backoff '${backoff}' needs delayMs`);
  if (factor !== undefined) {
    if (backoff === 'fixed') fail(`factor is given, which 'fixed' backoff does not use`);
    if (!(typeof factor === 'number' && factor > 0 && Number.isFinite(factor)))
      fail(`factor is not a positive finite number: ${String(factor)}`);
  }
}

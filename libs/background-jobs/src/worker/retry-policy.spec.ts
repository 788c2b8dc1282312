import 'reflect-metadata';
import { DEFAULT_WORKER_OPTIONS } from '../background-jobs.options';
import { BackgroundJob } from '../decorators/background-job.decorator';
import { nextTryTime } from './backoff';
import { checkRetryPolicy, RetryPolicy } from './retry-policy';

const created = new Date('2024-01-01T00:00:00.000Z');
const lastTryTime = new Date(created.getTime() + 1000);
/** Milliseconds from the last try to the next one, or null (abandon), after try `tryCount`. */
const waitAfter = (tryCount: number, policy?: RetryPolicy, options = DEFAULT_WORKER_OPTIONS) => {
  const next = nextTryTime({ tryCount, lastTryTime, creationTime: created }, options, lastTryTime, policy);
  return next && next.getTime() - lastTryTime.getTime();
};

describe('per-job retry policies (nextTryTime with a RetryPolicy)', () => {
  it("'abp' is ABP's rule: the worker's DefaultFirstWaitDuration and DefaultWaitFactor unless delayMs or factor say otherwise", () => {
    expect([1, 2, 3].map((n) => waitAfter(n, { backoff: 'abp' }))).toEqual([60_000, 120_000, 240_000]);
    expect([1, 2, 3].map((n) => waitAfter(n, {}))).toEqual([60_000, 120_000, 240_000]);
    expect([1, 2, 3].map((n) => waitAfter(n, { delayMs: 500 }))).toEqual([500, 1000, 2000]);
    expect([1, 2, 3].map((n) => waitAfter(n, { factor: 3 }))).toEqual([60_000, 180_000, 540_000]);
  });

  it("'exponential' waits delayMs x factor^(TryCount-1), factor 2 unless given", () => {
    expect([1, 2, 3, 4].map((n) => waitAfter(n, { backoff: 'exponential', delayMs: 100 }))).toEqual([
      100, 200, 400, 800,
    ]);
    expect([1, 2, 3].map((n) => waitAfter(n, { backoff: 'exponential', delayMs: 100, factor: 10 }))).toEqual([
      100, 1000, 10_000,
    ]);
  });

  it("'fixed' waits delayMs every time", () => {
    expect([1, 2, 7].map((n) => waitAfter(n, { backoff: 'fixed', delayMs: 250 }))).toEqual([250, 250, 250]);
  });

  it('maxTries abandons after that many tries, whatever the age; without it DefaultTimeout still abandons', () => {
    const policy: RetryPolicy = { maxTries: 3, backoff: 'fixed', delayMs: 1000 };
    expect([1, 2, 3, 4].map((n) => waitAfter(n, policy))).toEqual([1000, 1000, null, null]);
    // Far past DefaultTimeout (2 days): maxTries alone decides.
    const old = { tryCount: 1, lastTryTime: new Date(created.getTime() + 10 * 86_400_000), creationTime: created };
    expect(nextTryTime(old, DEFAULT_WORKER_OPTIONS, old.lastTryTime, policy)).not.toBeNull();
    expect(nextTryTime(old, DEFAULT_WORKER_OPTIONS, old.lastTryTime, { backoff: 'fixed', delayMs: 1000 })).toBeNull();
    expect(waitAfter(1, { maxTries: 1 })).toBeNull();
  });

  it('still abandons at the top of the TryCount column', () => {
    expect(waitAfter(32_767, { maxTries: 100_000, backoff: 'fixed', delayMs: 0 })).toBeNull();
  });

  it.each<[string, RetryPolicy, RegExp]>([
    ['maxTries 0', { maxTries: 0 }, /maxTries is not a whole number of 1 or more: 0/],
    ['maxTries 1.5', { maxTries: 1.5 }, /maxTries/],
    ['an unknown backoff', { backoff: 'linear' as never }, /backoff is not one of abp, exponential, fixed: linear/],
    ["'fixed' without delayMs", { backoff: 'fixed' }, /backoff 'fixed' needs delayMs/],
    ["'exponential' without delayMs", { backoff: 'exponential' }, /backoff 'exponential' needs delayMs/],
    ['a negative delay', { delayMs: -1 }, /delayMs is not a finite number of milliseconds, 0 or more: -1/],
    ['an infinite delay', { backoff: 'fixed', delayMs: Infinity }, /delayMs/],
    ['a zero factor', { factor: 0 }, /factor is not a positive finite number: 0/],
    ["a factor with 'fixed'", { backoff: 'fixed', delayMs: 1, factor: 2 }, /'fixed' backoff does not use/],
  ])('refuses %s, naming the job', (_what, policy, message) => {
    expect(() => checkRetryPolicy(policy, 'The background job for "X"')).toThrow(message);
    expect(() => checkRetryPolicy(policy, 'The background job for "X"')).toThrow(
      /^The background job for "X" has a retry policy/,
    );
  });

  it('@BackgroundJob refuses a bad policy when the class is defined', () => {
    class ReportArgs {}
    expect(() => BackgroundJob(ReportArgs, { retry: { backoff: 'fixed' } })).toThrow(
      `The background job for "ReportArgs" has a retry policy whose backoff 'fixed' needs delayMs`,
    );
    expect(() =>
      BackgroundJob(ReportArgs, { retry: { maxTries: 5, backoff: 'exponential', delayMs: 10 } }),
    ).not.toThrow();
  });
});

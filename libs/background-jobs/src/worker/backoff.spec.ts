import { DEFAULT_WORKER_OPTIONS } from '../background-jobs.options';
import { nextTryTime } from './backoff';

const created = new Date('2024-01-01T00:00:00.000Z');
const seconds = (date: Date | null) => (date!.getTime() - created.getTime()) / 1000;

describe('nextTryTime (ABP CalculateNextTryTime)', () => {
  it('waits DefaultFirstWaitDuration * DefaultWaitFactor^(TryCount-1) after LastTryTime', () => {
    const lastTryTime = new Date(created.getTime() + 1000);
    const after = (tryCount: number) =>
      seconds(nextTryTime({ tryCount, lastTryTime, creationTime: created }, DEFAULT_WORKER_OPTIONS, new Date(0)));
    expect(after(1)).toBe(1 + 60);
    expect(after(2)).toBe(1 + 120);
    expect(after(3)).toBe(1 + 240);
    expect(after(5)).toBe(1 + 960);
  });

  it('counts from now when the row has no LastTryTime', () => {
    const now = new Date(created.getTime() + 5000);
    expect(
      seconds(nextTryTime({ tryCount: 1, lastTryTime: null, creationTime: created }, DEFAULT_WORKER_OPTIONS, now)),
    ).toBe(65);
  });

  it('abandons once the next try would fall more than DefaultTimeout after creation', () => {
    const options = { defaultFirstWaitDuration: 10, defaultWaitFactor: 1, defaultTimeout: 100 };
    const at = (s: number) => new Date(created.getTime() + s * 1000);
    expect(nextTryTime({ tryCount: 1, lastTryTime: at(90), creationTime: created }, options, at(90))).toEqual(at(100));
    expect(nextTryTime({ tryCount: 1, lastTryTime: at(90.001), creationTime: created }, options, at(90))).toBeNull();
  });

  it('gives 12 tries with the defaults when every try fails on time', () => {
    let job = { tryCount: 0, lastTryTime: null as Date | null, creationTime: created };
    let due: Date | null = created;
    while (due) {
      job = { ...job, tryCount: job.tryCount + 1, lastTryTime: due };
      due = nextTryTime(job, DEFAULT_WORKER_OPTIONS, due);
    }
    expect(job.tryCount).toBe(12);
    expect(seconds(job.lastTryTime)).toBe(60 * (2 ** 11 - 1)); // the 12th try, about 34 hours in
  });

  it('abandons a row whose times cannot be read rather than retrying it forever', () => {
    const job = { tryCount: 1, lastTryTime: new Date(NaN), creationTime: created };
    expect(nextTryTime(job, DEFAULT_WORKER_OPTIONS, new Date())).toBeNull();
  });

  it('abandons at the top of the TryCount column, where claims stop counting', () => {
    const options = { defaultFirstWaitDuration: 0, defaultWaitFactor: 2, defaultTimeout: 172_800 };
    const job = (tryCount: number) => ({ tryCount, lastTryTime: created, creationTime: created });
    expect(nextTryTime(job(32_766), { ...options, defaultWaitFactor: 1 }, created)).toEqual(created);
    expect(nextTryTime(job(32_767), { ...options, defaultWaitFactor: 1 }, created)).toBeNull();
    expect(nextTryTime(job(40_000), { ...options, defaultWaitFactor: 1 }, created)).toBeNull();
    expect(nextTryTime(job(NaN), options, created)).toBeNull();
  });

  it('abandons when the wait is no finite number or lands past the last time a Date can hold', () => {
    const job = { tryCount: 5000, lastTryTime: created, creationTime: created };
    expect(
      nextTryTime(job, { defaultFirstWaitDuration: 0, defaultWaitFactor: 2, defaultTimeout: Infinity }, created),
    ).toBeNull(); // 0 * Infinity
    expect(
      nextTryTime(job, { defaultFirstWaitDuration: 60, defaultWaitFactor: 2, defaultTimeout: Infinity }, created),
    ).toBeNull();
    const late = { tryCount: 1, lastTryTime: new Date(8.64e15 - 1000), creationTime: created };
    expect(
      nextTryTime(late, { defaultFirstWaitDuration: 60, defaultWaitFactor: 2, defaultTimeout: Infinity }, created),
    ).toBeNull();
  });
});

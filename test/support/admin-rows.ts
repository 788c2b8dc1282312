import { randomBytes } from 'node:crypto';
import type { BackgroundJobRecord, JobState } from '@app/background-jobs';
import { jobRecord } from './job-records';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export const leaseStamp = () => `lease:${randomBytes(16).toString('hex')}`;

/**
 * A row that is in `state` for the next hour by the rules, relative to the real clock
 * (the management service reads it): processing rows hold a lease that ends in an hour.
 */
export function rowIn(state: JobState, overrides: Partial<BackgroundJobRecord> = {}): BackgroundJobRecord {
  const now = Date.now();
  const at = (ms: number) => new Date(now + ms);
  const base = { creationTime: at(-2 * HOUR), jobArgs: '{"n":1}' };
  const byState: Record<JobState, Partial<BackgroundJobRecord>> = {
    waiting: { nextTryTime: at(-MINUTE) },
    scheduled: { nextTryTime: at(HOUR) },
    retrying: {
      tryCount: 2,
      nextTryTime: at(HOUR),
      lastTryTime: at(-5 * MINUTE),
      extraProperties: JSON.stringify({
        LastError: 'Error: boom',
        LastErrorTime: at(-5 * MINUTE),
        LastErrorTryCount: 2,
      }),
    },
    processing: { tryCount: 1, nextTryTime: at(HOUR), lastTryTime: at(-1000), concurrencyStamp: leaseStamp() },
    abandoned: {
      tryCount: 7,
      isAbandoned: true,
      nextTryTime: at(-HOUR),
      lastTryTime: at(-HOUR),
      extraProperties: JSON.stringify({ LastError: 'Error: gave up', LastErrorTryCount: 7 }),
    },
    succeeded: { tryCount: 1, nextTryTime: at(-2 * MINUTE), lastTryTime: at(-2 * MINUTE), completionTime: at(-MINUTE) },
  };
  return jobRecord({ ...base, ...byState[state], ...overrides });
}

/** Rows whose state takes the rules' order to tell (first match wins), with the state they are in. */
export function edgeRows(jobName: string): Array<[JobState, BackgroundJobRecord]> {
  const now = Date.now();
  const at = (ms: number) => new Date(now + ms);
  return [
    // A lease that ended (its worker died): due again, counted by its tries.
    ['retrying', jobRecord({ jobName, tryCount: 1, nextTryTime: at(-MINUTE), concurrencyStamp: leaseStamp() })],
    ['waiting', jobRecord({ jobName, tryCount: 0, nextTryTime: at(-MINUTE), concurrencyStamp: leaseStamp() })],
    ['processing', jobRecord({ jobName, tryCount: 0, nextTryTime: at(HOUR), concurrencyStamp: leaseStamp() })],
    ['retrying', jobRecord({ jobName, tryCount: 3, nextTryTime: at(-MINUTE) })],
    ['abandoned', jobRecord({ jobName, isAbandoned: true, tryCount: 0, nextTryTime: at(HOUR) })],
    ['succeeded', jobRecord({ jobName, isAbandoned: true, completionTime: at(-MINUTE) })],
    [
      'succeeded',
      jobRecord({ jobName, completionTime: at(-MINUTE), concurrencyStamp: leaseStamp(), nextTryTime: at(-HOUR) }),
    ],
  ];
}

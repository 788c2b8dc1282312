import type { BackgroundJobRecord } from '@app/background-jobs/store/background-job-record';

/** What the SQL Server store's tests send and get back: fixed times, ids and rows as tedious returns them. */
export const T0 = new Date('2030-06-15T12:00:00.000Z');
export const LEASE = 'lease:0123456789abcdef0123456789abcdef';
export const ID1 = '3f2c9a4e-8d1b-4c7e-9a55-0b6e1d2f4a11';
export const ID2 = 'a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d';

export function record(overrides: Partial<BackgroundJobRecord> = {}): BackgroundJobRecord {
  return {
    id: ID1,
    applicationName: null,
    jobName: 'MyReportJobArgs',
    jobArgs: '{"content":"x"}',
    tryCount: 0,
    creationTime: T0,
    nextTryTime: T0,
    lastTryTime: null,
    isAbandoned: false,
    priority: 15,
    completionTime: null,
    extraProperties: '{}',
    concurrencyStamp: '0123456789abcdef0123456789abcdef',
    ...overrides,
  };
}

/** A claimed row as tedious returns it: upper-case uniqueidentifier, Dates, booleans for bit. */
export function claimedRow(overrides: Record<string, unknown> = {}) {
  return {
    Id: ID1.toUpperCase(),
    JobName: 'MyReportJobArgs',
    JobArgs: '{"content":"x"}',
    TryCount: 1,
    CreationTime: T0,
    Priority: 15,
    ExtraProperties: '{}',
    PreviousLeaseExpired: false,
    ...overrides,
  };
}

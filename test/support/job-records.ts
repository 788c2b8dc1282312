import { randomBytes, randomUUID } from 'node:crypto';
import type { BackgroundJobRecord } from '@app/background-jobs';

/**
 * A row as the manager writes it: ApplicationName NULL, not yet tried, priority Normal (15), due
 * now, a fresh concurrency stamp; `overrides` replace any field.
 */
export function jobRecord(overrides: Partial<BackgroundJobRecord> = {}): BackgroundJobRecord {
  const now = new Date();
  return {
    id: randomUUID(),
    applicationName: null,
    jobName: 'MyReportJobArgs',
    jobArgs: '{}',
    tryCount: 0,
    creationTime: now,
    nextTryTime: now,
    lastTryTime: null,
    isAbandoned: false,
    priority: 15,
    completionTime: null,
    extraProperties: '{}',
    concurrencyStamp: randomBytes(16).toString('hex'),
    ...overrides,
  };
}

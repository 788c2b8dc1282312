import { randomBytes } from 'node:crypto';
import type { BackgroundJobRecord } from '@app/background-jobs';
import { jobRecord } from '../../support/job-records';
import { openStore } from '../../support/open-store';

const MINUTE = 60_000;

/**
 * Rows in each state the dashboard shows, written as the worker would leave them. Their job name
 * is one no worker of the seed runs (unless given), so a running worker leaves them alone.
 */
export const rowIn = {
  waiting: (fields: Partial<BackgroundJobRecord> = {}) => row({ nextTryTime: ago(MINUTE), ...fields }),
  scheduled: (fields: Partial<BackgroundJobRecord> = {}) => row({ nextTryTime: later(60 * MINUTE), ...fields }),
  retrying: (fields: Partial<BackgroundJobRecord> = {}) =>
    row({
      tryCount: 2,
      lastTryTime: ago(MINUTE),
      nextTryTime: later(10 * MINUTE),
      extraProperties: lastError('Error: the export server said 503', 2),
      ...fields,
    }),
  abandoned: (fields: Partial<BackgroundJobRecord> = {}) =>
    row({
      tryCount: 12,
      isAbandoned: true,
      lastTryTime: ago(MINUTE),
      nextTryTime: ago(MINUTE),
      extraProperties: lastError('Error: the report template is missing', 12),
      ...fields,
    }),
  /** Held by a worker: a lease stamp whose lease (NextTryTime) has not ended. */
  processing: (fields: Partial<BackgroundJobRecord> = {}) =>
    row({
      tryCount: 1,
      lastTryTime: ago(1000),
      nextTryTime: later(30 * MINUTE),
      concurrencyStamp: `lease:${randomBytes(12).toString('hex')}`,
      ...fields,
    }),
};

export const DASHBOARD_JOB_NAME = 'ReportExportArgs';

function row(fields: Partial<BackgroundJobRecord>): BackgroundJobRecord {
  return jobRecord({
    jobName: DASHBOARD_JOB_NAME,
    jobArgs: JSON.stringify({ content: `report ${randomBytes(3).toString('hex')}` }),
    creationTime: ago(60 * MINUTE),
    ...fields,
  });
}

/** ExtraProperties as the worker writes them after a failed try (worker/last-error.ts). */
export function lastError(message: string, tryCount: number): string {
  return JSON.stringify({
    LastError: `${message}\n    at ReportExportJob.execute (/app/dist/jobs/report-export.job.js:41:13)\n    at JobRunner.run (/app/dist/worker/job-runner.js:88:20)`,
    LastErrorTime: ago(MINUTE).toISOString(),
    LastErrorTryCount: tryCount,
  });
}

/** Writes the rows as they are through the store the apps use (the table must exist: start the web app first). */
export async function insertRows(connectionString: string, rows: BackgroundJobRecord[]): Promise<void> {
  const { store, close } = await openStore(connectionString);
  try {
    await store.insert(rows);
  } finally {
    await close();
  }
}

/** Takes the due rows of `jobName` as a worker's claim does: they are then held (processing) for `leaseMs`. */
export async function claimRows(connectionString: string, jobName: string, leaseMs = 30 * MINUTE): Promise<string[]> {
  const { store, close } = await openStore(connectionString);
  try {
    const now = new Date();
    const claimed = await store.claim({
      applicationName: null,
      jobNames: [jobName],
      limit: 100,
      now,
      leaseUntil: new Date(now.getTime() + leaseMs),
      leaseToken: `lease:${randomBytes(12).toString('hex')}`,
    });
    return claimed.map((job) => job.id);
  } finally {
    await close();
  }
}

/** Reads one row back through the store, or undefined once it is gone. */
export async function findRow(connectionString: string, id: string): Promise<BackgroundJobRecord | undefined> {
  const { store, close } = await openStore(connectionString);
  try {
    return await store.find(id);
  } finally {
    await close();
  }
}

function ago(ms: number): Date {
  return new Date(Date.now() - ms);
}

function later(ms: number): Date {
  return new Date(Date.now() + ms);
}

import { fromUtcText } from './sql-time';
/** One row of AbpBackgroundJobs, with ABP's column meanings; times are UTC. */
export interface BackgroundJobRecord {
  id: string;
  applicationName: string | null;
  jobName: string;
  jobArgs: string;
  tryCount: number;
  creationTime: Date;
  nextTryTime: Date;
  lastTryTime: Date | null;
  isAbandoned: boolean;
  priority: number;
  completionTime: Date | null;
  extraProperties: string;
  concurrencyStamp: string;
}

/** A row this worker holds: its ConcurrencyStamp is `leaseToken` until it completes, fails or is released. */
export interface ClaimedJob extends BackgroundJobRecord {
  leaseToken: string;
  /**
   * The claim before this one ended without completing, failing or releasing the row: its worker
   * died while holding it, and the lease ran out.
   */
  previousLeaseExpired: boolean;
}

/** ABP's ConcurrencyStamp is a Guid in "N" format; a lease marks it so a crashed claim can be told apart. */
export const LEASE_STAMP_PREFIX = 'lease:';

export function isLeaseStamp(stamp: string | null | undefined): boolean {
  return !!stamp && stamp.startsWith(LEASE_STAMP_PREFIX);
}

export function sortInDequeueOrder<T extends BackgroundJobRecord>(rows: T[]): T[] {
  return rows.sort(
    (a, b) => b.priority - a.priority || a.tryCount - b.tryCount || a.nextTryTime.getTime() - b.nextTryTime.getTime(),
  );
}

/**
 * A row as any driver returns it, under ABP's column names, to a record: ids in lower case (SQL
 * Server and EF Core's SQLite provider write upper case), times from Dates or UTC text, booleans
 * from true/1.
 */
export function recordFromRow(row: Record<string, unknown>): BackgroundJobRecord {
  return {
    id: String(row.Id).toLowerCase(),
    applicationName: (row.ApplicationName as string | null) ?? null,
    jobName: row.JobName as string,
    jobArgs: row.JobArgs as string,
    tryCount: Number(row.TryCount),
    creationTime: toDate(row.CreationTime)!,
    nextTryTime: toDate(row.NextTryTime)!,
    lastTryTime: toDate(row.LastTryTime),
    isAbandoned: row.IsAbandoned === true || Number(row.IsAbandoned) === 1,
    priority: Number(row.Priority),
    completionTime: toDate(row.CompletionTime),
    extraProperties: row.ExtraProperties as string,
    concurrencyStamp: row.ConcurrencyStamp as string,
  };
}

function toDate(value: unknown): Date | null {
  return typeof value === 'string' ? fromUtcText(value) : ((value as Date | null | undefined) ?? null);
}

import type { ClaimRequest } from './background-job-store';
import { fromUtcText, readUtcTime } from './sql-time';

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
  /** The row's NextTryTime before this claim: when the job became due (pickup delay runs from here to its start). */
  dueTime: Date;
}

/** ABP's ConcurrencyStamp is a Guid in "N" format; a lease marks it so a crashed claim can be told apart. */
export const LEASE_STAMP_PREFIX = 'lease:';

/**
 * TryCount is a smallint in ABP's tables. A claim counts up to this and no further (the column
 * would overflow and fail the claim for every row beside it); a job that gets here is abandoned.
 */
export const MAX_TRY_COUNT = 32767;

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

/**
 * A row a claim returned, under ABP's column names, to the job it leased; or, when a value cannot
 * be what its column means (a time that is no time, text where a number belongs, a non-text id or
 * args), the reason why, naming the column and the value. Never throws: the claim has leased the
 * row already. What the claim itself wrote (LastTryTime, NextTryTime, the stamp) comes from the
 * request; TryCount is the row's, after the claim's increment. `DueTime` is the row's NextTryTime
 * before the claim, which each dialect's claim returns under that name.
 */
export function readClaimedJob(
  row: Record<string, unknown>,
  request: ClaimRequest,
  previousLeaseExpired: boolean,
): ClaimedJob | string {
  const id = row.Id;
  if (typeof id !== 'string') return `Id is not text: ${describeValue(id)}`;
  const lowerId = id.toLowerCase();
  // Writes find rows by the id in lower or upper case (EF Core's SQLite provider writes upper case).
  if (id !== lowerId && id !== id.toUpperCase()) return `Id mixes upper and lower case: ${describeValue(id)}`;
  if (typeof row.JobName !== 'string') return `JobName is not text: ${describeValue(row.JobName)}`;
  if (typeof row.JobArgs !== 'string') return `JobArgs is not text: ${describeValue(row.JobArgs)}`;
  if (typeof row.ExtraProperties !== 'string')
    return `ExtraProperties is not text: ${describeValue(row.ExtraProperties)}`;
  const tryCount = Number(row.TryCount);
  if (!Number.isInteger(tryCount)) return `TryCount is not a whole number: ${describeValue(row.TryCount)}`;
  const priority = Number(row.Priority);
  if (!Number.isInteger(priority)) return `Priority is not a whole number: ${describeValue(row.Priority)}`;
  const creationTime = readUtcTime(row.CreationTime);
  if (creationTime === undefined) return `CreationTime is not a time: ${describeValue(row.CreationTime)}`;
  // The claim matched NextTryTime <= now, so it was a time; only a metric reads it, never worth abandoning for.
  const dueTime = readUtcTime(row.DueTime) ?? request.now;
  return {
    id: lowerId,
    applicationName: request.applicationName,
    jobName: row.JobName,
    jobArgs: row.JobArgs,
    tryCount,
    creationTime,
    nextTryTime: request.leaseUntil,
    lastTryTime: request.now,
    isAbandoned: false,
    priority,
    completionTime: null,
    extraProperties: row.ExtraProperties,
    concurrencyStamp: request.leaseToken,
    leaseToken: request.leaseToken,
    previousLeaseExpired,
    dueTime,
  };
}

/** A column's value for a log line or LastError: text quoted and cut short, anything else by its type. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}...` : value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid date' : value.toISOString();
  if (Buffer.isBuffer(value)) return `a ${value.length}-byte blob`;
  return String(value);
}

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

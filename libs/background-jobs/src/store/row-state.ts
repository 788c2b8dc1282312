import { BackgroundJobRecord, isLeaseStamp } from './background-job-record';

/** A row that will never run again: abandoned, or completed and kept (StoreSuccessfulJobs). */
export function isFinished(row: Pick<BackgroundJobRecord, 'isAbandoned' | 'completionTime'>): boolean {
  return row.isAbandoned || row.completionTime !== null;
}

/** A worker holds the row: its stamp is a lease whose end (NextTryTime) is still ahead at `now`. */
export function isHeldAt(row: Pick<BackgroundJobRecord, 'concurrencyStamp' | 'nextTryTime'>, now: Date): boolean {
  return isLeaseStamp(row.concurrencyStamp) && row.nextTryTime.getTime() > now.getTime();
}

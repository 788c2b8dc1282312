import type { WorkNotifier } from './background-job-store';

/** A job someone asked to cancel while a worker held it. */
export interface CancellationRequest {
  /** The job's id, in lower case. */
  id: string;
  /**
   * The CreationTime of the row the request was made for: a unique job's id comes back for a new
   * job once the old one is finished, and a request left over from the old one must not cancel it.
   */
  jobCreationTime: Date;
  requestedBy: string | null;
}

/** A waiting job to abandon as cancelled: only while its row still carries `expectedStamp`. */
export interface WaitingJobCancellation {
  id: string;
  expectedStamp: string;
  /** The row's ExtraProperties with LastError "cancelled" and who cancelled. */
  extraProperties: string;
  newStamp: string;
}

/**
 * Cancel (see job-cancellation.ts): a waiting job is abandoned at once; a job a worker holds gets
 * a request in AbpBackgroundJobCancellations (ours, beside ABP's table), which the worker holding
 * it sees within about a second and aborts the job.
 */
export interface JobCancellationStore {
  /**
   * Abandons the row when it is live, no live lease holds it at `now`, and its stamp is still the
   * expected one; true when it did.
   */
  abandonWaiting(cancellation: WaitingJobCancellation, now: Date): Promise<boolean>;
  /**
   * Records a request to cancel a held job (a request of the same id replaces an earlier one) and,
   * where the database can push it, tells listening workers at once.
   */
  request(request: CancellationRequest, now: Date): Promise<void>;
  /** The requests among these ids (ids in any case; returned in lower case). */
  findRequests(ids: string[]): Promise<CancellationRequest[]>;
  /** Deletes the requests of these ids. */
  deleteRequests(ids: string[]): Promise<void>;
  /** Deletes at most `limit` requests whose job is finished or gone; returns how many. */
  deleteSettledRequests(limit: number): Promise<number>;
  /** Pushes the id of each new request to workers (PostgreSQL's LISTEN/NOTIFY); absent elsewhere. */
  readonly notifier?: WorkNotifier;
}

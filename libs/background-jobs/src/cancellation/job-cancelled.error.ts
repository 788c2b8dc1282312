/** LastError of a cancelled job, as the issue names it; who cancelled goes in CancelledBy beside it. */
export const CANCELLED = 'cancelled';

/** The reason a cancelled job's AbortSignal fires with; the job ends abandoned, not retried. */
export class JobCancelledError extends Error {
  constructor(readonly requestedBy: string | null) {
    super(requestedBy ? `The job was cancelled by ${requestedBy}` : 'The job was cancelled');
    this.name = 'JobCancelledError';
  }
}

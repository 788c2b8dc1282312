/** Enqueue of an args type or name that no job is registered for (ABP's message). */
export class UndefinedBackgroundJobError extends Error {
  constructor(what: string) {
    super(`Undefined background job for the job args type/name: ${what}`);
    this.name = 'UndefinedBackgroundJobError';
  }
}

/** JobArgs longer than ABP's column allows; nothing was written. */
export class JobArgsTooLargeError extends Error {
  constructor(
    readonly length: number,
    readonly limit: number,
  ) {
    super(`Background job args are ${length} characters long; the limit is ${limit}`);
    this.name = 'JobArgsTooLargeError';
  }
}

/** Two jobs registered for one job name: a start-up error, as in ABP. */
export class DuplicateBackgroundJobError extends Error {
  constructor(jobName: string, first: string, second: string) {
    super(`Two background jobs are registered for the job name "${jobName}": ${first} and ${second}`);
    this.name = 'DuplicateBackgroundJobError';
  }
}

/** The store could not reach its database; callers may retry later (the web app answers 503). */
export class StoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`The background job store is unavailable: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'StoreUnavailableError';
    (this as { cause?: unknown }).cause = cause;
  }
}

/**
 * Thrown by a job to give up at once: the job is abandoned after this try, with this message as
 * its LastError, however many tries its retry policy would still allow. For input that will never
 * work (a record that no longer exists, args that break a rule).
 */
export class AbandonJobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AbandonJobError';
  }
}

/** True for an AbandonJobError, also one made by another copy of this library (told by its name). */
export function isAbandonJobError(error: unknown): boolean {
  return error instanceof AbandonJobError || (error instanceof Error && error.name === 'AbandonJobError');
}

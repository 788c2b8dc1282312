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

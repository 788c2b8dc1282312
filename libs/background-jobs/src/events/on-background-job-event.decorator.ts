/** What a job event says happened (see OnBackgroundJobEvent). */
export type BackgroundJobEventName = 'succeeded' | 'failed' | 'retrying' | 'abandoned';

export const BACKGROUND_JOB_EVENT_NAMES: readonly BackgroundJobEventName[] = [
  'succeeded',
  'failed',
  'retrying',
  'abandoned',
];

export const BACKGROUND_JOB_EVENT_METADATA = 'abp:background-job-event';

/**
 * Calls the decorated method of a provider (a singleton) in the worker process when a job run
 * ends, with a BackgroundJobEvent, as @nestjs/bullmq's @OnWorkerEvent does:
 * - 'succeeded': the job ran and succeeded;
 * - 'failed': a try failed (it threw, timed out, its args could not be read...), whatever comes next;
 * - 'retrying': a try failed and the job will be tried again (`nextTryTime`);
 * - 'abandoned': a try failed and the job will not be tried again.
 * A failed try gives 'failed' and then 'retrying' or 'abandoned'. A run stopped by shutdown gives
 * none (its row is given back and runs again). Handlers run after the job's outcome is decided,
 * off the job's path; one that throws (or rejects) is logged and changes nothing. A method may
 * carry the decorator more than once.
 */
export function OnBackgroundJobEvent(event: BackgroundJobEventName): MethodDecorator {
  if (!BACKGROUND_JOB_EVENT_NAMES.includes(event)) {
    throw new Error(
      `@OnBackgroundJobEvent takes one of ${BACKGROUND_JOB_EVENT_NAMES.join(', ')}, got ${JSON.stringify(event)}`,
    );
  }
  return (_target, _key, descriptor) => {
    const method = descriptor.value as object;
    const events = (Reflect.getMetadata(BACKGROUND_JOB_EVENT_METADATA, method) as BackgroundJobEventName[]) ?? [];
    Reflect.defineMetadata(BACKGROUND_JOB_EVENT_METADATA, [...new Set([...events, event])], method);
  };
}

/** The events a method was decorated for (none: an empty list). */
export function backgroundJobEventsOf(method: unknown): BackgroundJobEventName[] {
  if (typeof method !== 'function') return [];
  return (Reflect.getMetadata(BACKGROUND_JOB_EVENT_METADATA, method) as BackgroundJobEventName[] | undefined) ?? [];
}

import type { BackgroundJobRecord } from '../store/background-job-record';
import { occurrenceJobId } from '../store/derived-ids';
import type { ScheduleRecord } from '../store/schedule-store';
import { newConcurrencyStamp } from '../store/stamps';

/**
 * The job row of one run of a schedule, due at once. ExtraProperties name the schedule (and the
 * occurrence), so a dashboard can tell where a job came from.
 */
export function scheduledJobRow(
  schedule: ScheduleRecord,
  id: string,
  now: Date,
  extraProperties: Record<string, string>,
): BackgroundJobRecord {
  return {
    id,
    applicationName: schedule.applicationName,
    jobName: schedule.jobName,
    jobArgs: schedule.jobArgs,
    tryCount: 0,
    creationTime: now,
    nextTryTime: now,
    lastTryTime: null,
    isAbandoned: false,
    priority: schedule.priority,
    completionTime: null,
    extraProperties: JSON.stringify({ Schedule: schedule.name, ...extraProperties }),
    concurrencyStamp: newConcurrencyStamp(),
  };
}

/** The row of one occurrence: its id derived from the schedule and the occurrence, the same in every worker. */
export function occurrenceJobRow(schedule: ScheduleRecord, occurrence: Date, now: Date): BackgroundJobRecord {
  return scheduledJobRow(schedule, occurrenceJobId(schedule.applicationName, schedule.name, occurrence), now, {
    Occurrence: occurrence.toISOString(),
  });
}

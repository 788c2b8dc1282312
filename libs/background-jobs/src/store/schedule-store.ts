import type { BackgroundJobRecord } from './background-job-record';
import { fromUtcText } from './sql-time';

/** Where a schedule comes from: `@RecurringJob` on a job class, or the RecurringJobs service (CLI, code). */
export type ScheduleSource = 'code' | 'runtime';

/** What a schedule is: when, and which job with which args. */
export interface ScheduleDefinition {
  name: string;
  applicationName: string | null;
  jobName: string;
  jobArgs: string;
  /** 5 fields, or 6 with seconds first. */
  cron: string;
  /** An IANA zone; null: UTC. */
  timeZone: string | null;
  priority: number;
  source: ScheduleSource;
}

/** One row of AbpBackgroundJobSchedules (ours, beside ABP's table); times are UTC. */
export interface ScheduleRecord extends ScheduleDefinition {
  isPaused: boolean;
  /** Changes with every change of the definition: an occurrence is enqueued only under the stamp it was computed with. */
  definitionStamp: string;
  creationTime: Date;
  /**
   * The cursor: the last occurrence enqueued, or the time from which occurrences count (creation,
   * a change of cron or zone, resume). Only an occurrence after it is enqueued, and it moves forward only.
   */
  lastOccurrenceTime: Date;
  /** When a job was last enqueued for it (an occurrence or a trigger); null: never. */
  lastEnqueueTime: Date | null;
  lastJobId: string | null;
}

/** A job to enqueue for a schedule, with the cursor move that allows it (absent for a trigger). */
export interface ScheduleRun {
  name: string;
  job: BackgroundJobRecord;
  occurrence?: {
    time: Date;
    /** The definition the occurrence was computed from. */
    definitionStamp: string;
  };
}

/**
 * AbpBackgroundJobSchedules: the schedules of recurring jobs and their cursors. Every write is
 * one statement or one short transaction; enqueueRun() moves the cursor and writes the job row
 * together, so of N workers that reach one occurrence, exactly one enqueues it.
 */
export interface ScheduleStore {
  /** The schedules of one application (null: of none), or of all (undefined), by name. */
  list(applicationName?: string | null): Promise<ScheduleRecord[]>;
  find(name: string): Promise<ScheduleRecord | undefined>;
  /** Writes the row unless a schedule has its name; true when it wrote it. */
  insert(schedule: ScheduleRecord): Promise<boolean>;
  /**
   * Writes a new definition (and stamp, and cursor) while the row's stamp is still `expectedStamp`;
   * pause state and last run stay. True when it changed the row.
   */
  updateDefinition(
    definition: ScheduleDefinition,
    expectedStamp: string,
    newStamp: string,
    lastOccurrenceTime: Date,
  ): Promise<boolean>;
  /** Pauses, or resumes with the cursor set to `resumedAt` (occurrences missed while paused never run); true when found. */
  setPaused(name: string, paused: boolean, resumedAt: Date): Promise<boolean>;
  remove(name: string): Promise<boolean>;
  /**
   * In one transaction: for an occurrence, moves the cursor to it if the schedule is not paused,
   * still has the stamp and its cursor is before it; for a trigger, just finds the schedule. Then
   * records the last run and writes the job row (unless a row has its id). True when it wrote.
   */
  enqueueRun(run: ScheduleRun, now: Date): Promise<boolean>;
}

/** The columns of AbpBackgroundJobSchedules in the order every dialect writes them. */
export const SCHEDULE_COLUMNS = [
  'Name',
  'ApplicationName',
  'JobName',
  'JobArgs',
  'Cron',
  'TimeZone',
  'Priority',
  'IsPaused',
  'Source',
  'DefinitionStamp',
  'CreationTime',
  'LastOccurrenceTime',
  'LastEnqueueTime',
  'LastJobId',
] as const;

/** A row as any driver returns it, under its column names: times from Dates or UTC text, booleans from true/1. */
export function scheduleFromRow(row: Record<string, unknown>): ScheduleRecord {
  const time = (value: unknown) => fromUtcText(value as string | Date | null);
  return {
    name: row.Name as string,
    applicationName: (row.ApplicationName as string | null) ?? null,
    jobName: row.JobName as string,
    jobArgs: row.JobArgs as string,
    cron: row.Cron as string,
    timeZone: (row.TimeZone as string | null) ?? null,
    priority: Number(row.Priority),
    isPaused: row.IsPaused === true || Number(row.IsPaused) === 1,
    source: row.Source === 'code' ? 'code' : 'runtime',
    definitionStamp: row.DefinitionStamp as string,
    creationTime: time(row.CreationTime)!,
    lastOccurrenceTime: time(row.LastOccurrenceTime)!,
    lastEnqueueTime: time(row.LastEnqueueTime),
    lastJobId: typeof row.LastJobId === 'string' ? row.LastJobId.toLowerCase() : null,
  };
}

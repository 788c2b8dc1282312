import { BackgroundJobPriority } from '../background-job-priority';
import { MAX_JOB_ARGS_LENGTH } from '../background-jobs.constants';
import type { ScheduleDefinition, ScheduleRecord, ScheduleSource } from '../store/schedule-store';
import { CronSchedule, InvalidScheduleError } from './cron-schedule';

/** A schedule as a caller gives it (the RecurringJobs service, the CLI, `@RecurringJob`). */
export interface RecurringJobInput {
  name: string;
  cron: string;
  /** A registered job name. */
  jobName: string;
  /** A JSON object, or its text; default `{}`. */
  args?: object | string;
  /** IANA zone; empty or absent: UTC. */
  timeZone?: string | null;
  priority?: number;
}

// eslint-disable-next-line no-control-regex -- control characters are what this refuses
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Checks a schedule as given and turns it into the row's definition; throws InvalidScheduleError
 * naming what is wrong (nothing is saved).
 */
export function scheduleDefinitionOf(
  input: RecurringJobInput,
  applicationName: string | null,
  source: ScheduleSource,
): ScheduleDefinition {
  const { name } = input;
  if (typeof name !== 'string' || name.length === 0 || name.length > 128 || CONTROL.test(name) || name.trim() !== name)
    throw new InvalidScheduleError(
      `A schedule name is 1 to 128 characters, without control characters or spaces at either end; got ${JSON.stringify(name)}`,
    );
  const timeZone = input.timeZone ? input.timeZone : null;
  if (timeZone !== null && timeZone.length > 64) throw new InvalidScheduleError(`Unknown time zone "${timeZone}"`);
  const cron = typeof input.cron === 'string' ? input.cron.trim().replace(/\s+/g, ' ') : input.cron;
  if (typeof cron === 'string' && cron.length > 128)
    throw new InvalidScheduleError('A cron expression is at most 128 characters');
  CronSchedule.parse(cron, timeZone);
  const priority = input.priority ?? BackgroundJobPriority.Normal;
  if (!Number.isInteger(priority) || priority < 0 || priority > 255)
    throw new InvalidScheduleError(`A background job priority is a whole number from 0 to 255, got ${priority}`);
  return {
    name,
    applicationName,
    jobName: input.jobName,
    jobArgs: argsText(input.args),
    cron,
    timeZone,
    priority,
    source,
  };
}

function argsText(args: object | string | undefined): string {
  let parsed: unknown = args ?? {};
  if (typeof args === 'string') {
    try {
      parsed = JSON.parse(args);
    } catch (error) {
      throw new InvalidScheduleError(`A schedule's args are a JSON object: ${(error as Error).message}`);
    }
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new InvalidScheduleError(`A schedule's args are a JSON object, got ${JSON.stringify(parsed)}`);
  const text = JSON.stringify(parsed);
  if (text.length > MAX_JOB_ARGS_LENGTH)
    throw new InvalidScheduleError(
      `A schedule's args are ${text.length} characters long; the limit is ${MAX_JOB_ARGS_LENGTH}`,
    );
  return text;
}

/** Whether a row already says what a definition says (then saving it changes nothing). */
export function sameDefinition(row: ScheduleRecord, definition: ScheduleDefinition): boolean {
  return (
    row.applicationName === definition.applicationName &&
    row.jobName === definition.jobName &&
    row.jobArgs === definition.jobArgs &&
    row.cron === definition.cron &&
    row.timeZone === definition.timeZone &&
    row.priority === definition.priority &&
    row.source === definition.source
  );
}

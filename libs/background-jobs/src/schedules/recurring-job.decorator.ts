export const RECURRING_JOB_METADATA = 'abp:recurring-job';

export interface RecurringJobOptions {
  /** The schedule's name, unique in the table; default: the job's name. Two schedules of one job need names. */
  name?: string;
  /** An IANA time zone the cron fields are read in (e.g. 'Europe/Berlin'); default UTC. */
  timeZone?: string;
  /** The job's args each time (a JSON object); default `{}`. */
  args?: object;
  /** ABP's priority numbers; default Normal (15). */
  priority?: number;
}

export interface RecurringJobMetadata extends RecurringJobOptions {
  cron: string;
}

/**
 * Runs the decorated job class (an `@BackgroundJob`) on a schedule: `cron` has 5 fields (minute
 * hour day month weekday) or 6 (seconds first). Declared schedules are written to
 * AbpBackgroundJobSchedules when a worker starts, so `schedule list`, pause and resume see them;
 * every worker that declares one takes part in running it, and each occurrence runs once.
 * Stackable: several schedules on one job, each with its own name.
 *
 * ```ts
 * @RecurringJob('0 3 * * *', { timeZone: 'Europe/Berlin', args: { full: true }, name: 'nightly-report' })
 * @BackgroundJob(ReportArgs)
 * export class ReportJob extends AsyncBackgroundJob<ReportArgs> { ... }
 * ```
 */
export function RecurringJob(cron: string, options: RecurringJobOptions = {}): ClassDecorator {
  return (target) => {
    const existing = (Reflect.getMetadata(RECURRING_JOB_METADATA, target) as RecurringJobMetadata[] | undefined) ?? [];
    Reflect.defineMetadata(RECURRING_JOB_METADATA, [...existing, { ...options, cron }], target);
  };
}

export function getRecurringJobs(target: object): RecurringJobMetadata[] {
  return (Reflect.getMetadata(RECURRING_JOB_METADATA, target) as RecurringJobMetadata[] | undefined) ?? [];
}

import { Cron } from 'croner';

/** A cron expression or time zone the scheduler cannot use; nothing was saved. */
export class InvalidScheduleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidScheduleError';
  }
}

/**
 * When a schedule fires, by croner (https://github.com/Hexagon/croner): 5 fields (minute first) or
 * 6 (seconds first), in an IANA time zone (UTC when none). Daylight saving time follows croner's
 * rule, with `fixedTimeRule: 'no-wildcard'` (Vixie cron's): a job whose second, minute and hour
 * fields hold no wildcard or step (`30 2 * * *`, `0 30 2,14 * * *`) is a fixed-time job, which runs
 * once on a day whose 02:30 does not exist (at the first time after the gap, 03:00 on a
 * spring-forward day) and once on a day where 02:30 comes twice (the first time). Other jobs
 * (`*\/15 * * * *`) follow real time: they skip the missing hour and run through the repeated one.
 */
export class CronSchedule {
  private constructor(private readonly cron: Cron) {}

  static parse(expression: string, timeZone: string | null): CronSchedule {
    if (typeof expression !== 'string' || expression.trim() === '')
      throw new InvalidScheduleError(
        'A cron expression is 5 fields (minute hour day month weekday) or 6 (seconds first)',
      );
    if (timeZone !== null) assertTimeZone(timeZone);
    let cron: Cron;
    try {
      cron = new Cron(expression, {
        paused: true,
        mode: '5-or-6-parts',
        fixedTimeRule: 'no-wildcard',
        ...(timeZone === null ? { timezone: 'UTC' } : { timezone: timeZone }),
      });
    } catch (error) {
      throw new InvalidScheduleError(`Invalid cron expression "${expression}": ${(error as Error).message}`);
    }
    const schedule = new CronSchedule(cron);
    if (schedule.nextAfter(new Date()) === null)
      throw new InvalidScheduleError(`The cron expression "${expression}" never fires`);
    return schedule;
  }

  /** The last time it fires at or before `time`; null when never. */
  latestAtOrBefore(time: Date): Date | null {
    // previousRuns() leaves out a run at the reference itself.
    return this.cron.previousRuns(1, new Date(time.getTime() + 1))[0] ?? null;
  }

  /** The first time it fires after `time`; null when never again. */
  nextAfter(time: Date): Date | null {
    return this.cron.nextRun(time);
  }
}

function assertTimeZone(timeZone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone }).format(0);
  } catch {
    throw new InvalidScheduleError(
      `Unknown time zone "${timeZone}": use an IANA name such as Europe/Berlin, or none for UTC`,
    );
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { BackgroundJobRegistry } from '../background-job.registry';
import { ResolvedBackgroundJobsOptions } from '../background-jobs.options';
import { BACKGROUND_JOBS_OPTIONS } from '../background-jobs.tokens';
import { BACKGROUND_JOB_STORE, BackgroundJobStore } from '../store/background-job-store';
import type { ScheduleRecord } from '../store/schedule-store';
import { newSequentialGuid } from '../store/stamps';
import { WorkerWakeup } from '../worker/worker-wakeup';
import { CronSchedule } from './cron-schedule';
import { saveSchedule, SaveScheduleOutcome } from './save-schedule';
import { RecurringJobInput, scheduleDefinitionOf } from './schedule-definition';
import { ScheduleDeclaredInCodeError, ScheduleNotFoundError } from './schedule-errors';
import { scheduledJobRow } from './schedule-jobs';

/** A schedule as the CLI, dashboard and API show it; times are ISO text (UTC). */
export interface ScheduleView {
  name: string;
  jobName: string;
  /** The job's args, as JSON text. */
  args: string;
  cron: string;
  /** IANA zone; null: UTC. */
  timeZone: string | null;
  priority: number;
  paused: boolean;
  /** 'code': `@RecurringJob`; 'runtime': added through RecurringJobs (the CLI). */
  source: 'code' | 'runtime';
  /**
   * When it runs next: the occurrence a worker will enqueue as soon as it sees it (in the past when
   * one is overdue, e.g. while no worker runs); null while paused or when it never fires again.
   */
  nextRunTime: string | null;
  /** When a job was last enqueued for it (an occurrence or a trigger); null: never. */
  lastRunTime: string | null;
  lastJobId: string | null;
}

/** What add() takes: the schedule's cron, job and args; the name is add()'s first argument. */
export type RecurringJobSchedule = Omit<RecurringJobInput, 'name'>;

/**
 * Recurring jobs at run time, stored in AbpBackgroundJobSchedules (ours, beside ABP's table) and
 * run by every worker of this application: the service behind `npm run jobs -- schedule ...`.
 * Available in every process that imports BackgroundJobsModule (the web app too); only workers
 * run the schedules, and they see a change at their next refresh (JobPollPeriod, at least 1 s).
 */
@Injectable()
export class RecurringJobs {
  constructor(
    @Inject(BACKGROUND_JOB_STORE) private readonly store: BackgroundJobStore,
    private readonly registry: BackgroundJobRegistry,
    @Inject(BACKGROUND_JOBS_OPTIONS) private readonly options: ResolvedBackgroundJobsOptions,
    private readonly wakeup: WorkerWakeup,
  ) {}

  /**
   * Creates the schedule, or changes the one of this name (not one declared in code). Occurrences
   * count from now: the first run is the first occurrence after this call. Throws
   * InvalidScheduleError (bad cron, zone, args or name), UndefinedBackgroundJobError (no job of
   * that name is registered here) or ScheduleDeclaredInCodeError.
   */
  async add(name: string, schedule: RecurringJobSchedule): Promise<SaveScheduleOutcome> {
    const jobName = this.registry.getByName(schedule.jobName).jobName;
    const definition = scheduleDefinitionOf({ ...schedule, name, jobName }, this.applicationName, 'runtime');
    return saveSchedule(this.store.schedules, definition, new Date());
  }

  /** This application's schedules, by name. */
  async list(): Promise<ScheduleView[]> {
    const now = new Date();
    return (await this.store.schedules.list(this.applicationName)).map((s) => viewOf(s, now));
  }

  async get(name: string): Promise<ScheduleView | undefined> {
    const schedule = await this.find(name);
    return schedule && viewOf(schedule, new Date());
  }

  /** Removes a schedule added at run time; one declared in code is refused (ScheduleDeclaredInCodeError). */
  async remove(name: string): Promise<void> {
    const schedule = await this.get(name);
    if (!schedule) throw new ScheduleNotFoundError(name);
    if (schedule.source === 'code') throw new ScheduleDeclaredInCodeError(name);
    if (!(await this.store.schedules.remove(name))) throw new ScheduleNotFoundError(name);
  }

  /** Stops enqueueing its occurrences (jobs already enqueued still run). */
  async pause(name: string): Promise<void> {
    await this.setPaused(name, true);
  }

  /** Enqueues its occurrences again, from the next one: those that came while it was paused never run. */
  async resume(name: string): Promise<void> {
    await this.setPaused(name, false);
  }

  /** Enqueues one run now, whether paused or not, leaving its occurrences as they are; returns the job's id. */
  async trigger(name: string): Promise<string> {
    const schedule = await this.find(name);
    if (!schedule) throw new ScheduleNotFoundError(name);
    const now = new Date();
    const job = scheduledJobRow(schedule, newSequentialGuid(now.getTime(), this.store.guidLayout), now, {
      Trigger: 'manual',
    });
    if (!(await this.store.schedules.enqueueRun({ name, job }, now))) throw new ScheduleNotFoundError(name);
    this.wakeup.wake();
    return job.id;
  }

  private get applicationName(): string | null {
    return this.options.worker.applicationName;
  }

  /** A schedule of this application only: another application's schedules are not this one's to change. */
  private async find(name: string): Promise<ScheduleRecord | undefined> {
    const schedule = await this.store.schedules.find(name);
    return schedule && schedule.applicationName === this.applicationName ? schedule : undefined;
  }

  private async setPaused(name: string, paused: boolean): Promise<void> {
    if (!(await this.find(name)) || !(await this.store.schedules.setPaused(name, paused, new Date())))
      throw new ScheduleNotFoundError(name);
  }
}

function viewOf(schedule: ScheduleRecord, now: Date): ScheduleView {
  return {
    name: schedule.name,
    jobName: schedule.jobName,
    args: schedule.jobArgs,
    cron: schedule.cron,
    timeZone: schedule.timeZone,
    priority: schedule.priority,
    paused: schedule.isPaused,
    source: schedule.source,
    nextRunTime: schedule.isPaused ? null : (nextRun(schedule, now)?.toISOString() ?? null),
    lastRunTime: schedule.lastEnqueueTime?.toISOString() ?? null,
    lastJobId: schedule.lastJobId,
  };
}

function nextRun(schedule: ScheduleRecord, now: Date): Date | null {
  let cron: CronSchedule;
  try {
    cron = CronSchedule.parse(schedule.cron, schedule.timeZone);
  } catch {
    return null;
  }
  const due = cron.latestAtOrBefore(now);
  if (due && due > schedule.lastOccurrenceTime) return due;
  return cron.nextAfter(now > schedule.lastOccurrenceTime ? now : schedule.lastOccurrenceTime);
}

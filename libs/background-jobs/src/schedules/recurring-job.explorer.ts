import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { BACKGROUND_JOB_METADATA } from '../background-jobs.constants';
import { ResolvedBackgroundJobsOptions } from '../background-jobs.options';
import { BACKGROUND_JOBS_OPTIONS } from '../background-jobs.tokens';
import type { BackgroundJobMetadata } from '../decorators/background-job.decorator';
import { getJobName } from '../decorators/background-job-name.decorator';
import type { ScheduleDefinition } from '../store/schedule-store';
import { getRecurringJobs } from './recurring-job.decorator';
import { scheduleDefinitionOf } from './schedule-definition';

/**
 * Finds `@RecurringJob` on the job providers and checks each declaration at start (a bad cron,
 * zone or args, or two schedules of one name, stop the app with the class named). The worker's
 * scheduler writes them to the table and runs them.
 */
@Injectable()
export class RecurringJobExplorer implements OnModuleInit {
  private found: ScheduleDefinition[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    @Inject(BACKGROUND_JOBS_OPTIONS) private readonly options: ResolvedBackgroundJobsOptions,
  ) {}

  /** The schedules declared in this process's code. */
  get declarations(): readonly ScheduleDefinition[] {
    return this.found;
  }

  onModuleInit(): void {
    const byName = new Map<string, { definition: ScheduleDefinition; className: string }>();
    const seen = new Set<unknown>();
    for (const wrapper of this.discovery.getProviders()) {
      const metatype = wrapper.metatype as (new (...args: never[]) => unknown) | undefined;
      if (!metatype || typeof metatype !== 'function' || seen.has(metatype)) continue;
      seen.add(metatype);
      const schedules = getRecurringJobs(metatype);
      if (schedules.length === 0) continue;
      const job = Reflect.getMetadata(BACKGROUND_JOB_METADATA, metatype) as BackgroundJobMetadata | undefined;
      if (!job) throw new Error(`@RecurringJob on ${metatype.name} needs @BackgroundJob(ArgsClass) on the same class`);
      const jobName = getJobName(job.argsType);
      for (const schedule of schedules) {
        const name = schedule.name ?? jobName;
        const where = `@RecurringJob('${schedule.cron}') on ${metatype.name}`;
        let definition: ScheduleDefinition;
        try {
          definition = scheduleDefinitionOf(
            { ...schedule, name, jobName },
            this.options.worker.applicationName,
            'code',
          );
        } catch (error) {
          throw new Error(`${where}: ${(error as Error).message}`, { cause: error });
        }
        const other = byName.get(name);
        if (other)
          throw new Error(
            `Two recurring job schedules are named "${name}" (${other.className} and ${metatype.name}): give each its own name`,
          );
        byName.set(name, { definition, className: metatype.name });
      }
    }
    this.found = [...byName.values()].map((entry) => entry.definition);
  }
}

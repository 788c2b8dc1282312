import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { BACKGROUND_JOBS_OPTIONS } from '../background-jobs.tokens';
import { ResolvedBackgroundJobsOptions } from '../background-jobs.options';
import { BACKGROUND_JOB_STORE, BackgroundJobStore } from '../store/background-job-store';

/** Creates or adopts the AbpBackgroundJobs table when the app starts (unless AutoMigrate is off). */
@Injectable()
export class SchemaMigrator implements OnModuleInit {
  private readonly logger = new Logger('BackgroundJobsSchema');

  constructor(
    @Inject(BACKGROUND_JOBS_OPTIONS) private readonly options: ResolvedBackgroundJobsOptions,
    @Inject(BACKGROUND_JOB_STORE) private readonly store: BackgroundJobStore,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.options.autoMigrate) return;
    await this.store.migrate();
    this.logger.log(`AbpBackgroundJobs table ready (${this.store.dialect})`);
  }
}

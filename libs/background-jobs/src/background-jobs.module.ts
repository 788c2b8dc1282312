import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import {
  BackgroundJobsConfigurableModule,
  BACKGROUND_JOBS_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} from './background-jobs.module-definition';
import { BackgroundJobsModuleOptions, BackgroundJobStoreKind, resolveOptions } from './background-jobs.options';
import { BACKGROUND_JOBS_OPTIONS } from './background-jobs.tokens';
import { BackgroundJobExplorer } from './background-job.explorer';
import { BackgroundJobRegistry } from './background-job.registry';
import { BackgroundJobManager, IBackgroundJobManager, IDynamicBackgroundJobManager } from './background-job-manager';
import { BACKGROUND_JOB_STORE } from './store/background-job-store';
import { createBackgroundJobStore } from './store/store.factory';
import { MemoryBackgroundJobStore } from './store/memory/memory-background-job-store';
import { SchemaMigrator } from './schema/schema-migrator';
import { WorkerOrchestrator } from './worker/worker.orchestrator';
import { WorkerWakeup } from './worker/worker-wakeup';
import { JobLifecycle } from './worker/job-lifecycle';
import { RecurringJobExplorer } from './schedules/recurring-job.explorer';
import { RecurringJobs } from './schedules/recurring-jobs.service';
import { BackgroundJobsAdmin } from './admin/background-jobs-admin.types';
import { StoreBackgroundJobsAdmin } from './admin/store-background-jobs-admin';
import { BackgroundJobEventsExplorer } from './events/background-job-events.explorer';

/**
 * ABP's background jobs module. Needs a TypeORM DataSource (TypeOrmModule.forRoot in the app),
 * unless `store: 'memory'`; provides IBackgroundJobManager, and with isJobExecutionEnabled runs
 * the worker.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: BACKGROUND_JOBS_OPTIONS,
      useFactory: (options: BackgroundJobsModuleOptions) => resolveOptions(options),
      inject: [BACKGROUND_JOBS_MODULE_OPTIONS],
    },
    BackgroundJobRegistry,
    BackgroundJobExplorer,
    BackgroundJobManager,
    { provide: IBackgroundJobManager, useExisting: BackgroundJobManager },
    { provide: IDynamicBackgroundJobManager, useExisting: BackgroundJobManager },
    WorkerWakeup,
    JobLifecycle,
    BackgroundJobEventsExplorer,
    SchemaMigrator,
    WorkerOrchestrator,
    RecurringJobExplorer,
    RecurringJobs,
    { provide: BackgroundJobsAdmin, useClass: StoreBackgroundJobsAdmin },
  ],
  exports: [
    IBackgroundJobManager,
    IDynamicBackgroundJobManager,
    BackgroundJobRegistry,
    BACKGROUND_JOB_STORE,
    WorkerOrchestrator,
    JobLifecycle,
    RecurringJobs,
    BackgroundJobsAdmin,
  ],
})
export class BackgroundJobsModule extends BackgroundJobsConfigurableModule {
  static forRoot(options: typeof OPTIONS_TYPE) {
    return withStore(super.forRoot(options), options);
  }

  /** `store` and `dataSourceName` are given here, not by the factory: they choose providers. */
  static forRootAsync(
    options: typeof ASYNC_OPTIONS_TYPE & Pick<BackgroundJobsModuleOptions, 'store' | 'dataSourceName'>,
  ) {
    return withStore(super.forRootAsync(options), options);
  }
}

function withStore<T extends { providers?: unknown[] }>(
  definition: T,
  { store = 'typeorm', dataSourceName }: { store?: BackgroundJobStoreKind; dataSourceName?: string },
): T {
  // tablePrefix and schema come with the other options (forRootAsync's factory may read them from settings).
  const names = ({ tablePrefix, schema }: BackgroundJobsModuleOptions) => ({ tablePrefix, schema });
  const storeProvider =
    store === 'memory'
      ? {
          provide: BACKGROUND_JOB_STORE,
          useFactory: (options: BackgroundJobsModuleOptions) => new MemoryBackgroundJobStore(names(options)),
          inject: [BACKGROUND_JOBS_MODULE_OPTIONS],
        }
      : {
          provide: BACKGROUND_JOB_STORE,
          useFactory: (dataSource: DataSource, options: BackgroundJobsModuleOptions) =>
            createBackgroundJobStore(dataSource, names(options)),
          inject: [getDataSourceToken(dataSourceName), BACKGROUND_JOBS_MODULE_OPTIONS],
        };
  return { ...definition, providers: [...(definition.providers ?? []), storeProvider] };
}

/**
 * Options of the module, under ABP's names (`AbpBackgroundJobOptions` and
 * `AbpBackgroundJobWorkerOptions`); durations keep ABP's units so a setting copied from an ABP
 * appsettings.json means the same here.
 */
export interface BackgroundJobWorkerOptions {
  /** Rows are visible only to workers of the same ApplicationName (null matches NULL rows). */
  applicationName: string | null;
  /** Milliseconds between polls when nothing wakes the worker earlier. */
  jobPollPeriod: number;
  /** Upper bound on the rows one claim takes. */
  maxJobFetchCount: number;
  /** Seconds before the first retry. */
  defaultFirstWaitDuration: number;
  /** Seconds after CreationTime past which a failing job is abandoned. */
  defaultTimeout: number;
  defaultWaitFactor: number;
  /** Jobs run at the same time in one worker process. */
  maxParallelJobExecutionCount: number;
  /** Seconds a claim hides a row from other workers; renewed while the job runs. */
  jobLeaseDuration: number;
  /** Seconds a job may run before it is aborted and counted as a failed try (0: no limit). */
  jobExecutionTimeout: number;
  /** Seconds shutdown waits for running jobs before aborting them and releasing their rows. */
  shutdownTimeout: number;
  /** Run only these job names (a dedicated worker); empty: every job registered in the process. */
  jobNames: string[];
}

export type BackgroundJobStoreKind = 'typeorm' | 'memory';

export interface BackgroundJobsModuleOptions {
  /** ABP's `IsJobExecutionEnabled`: false enqueues only (the web app), true also runs the worker. */
  isJobExecutionEnabled?: boolean;
  /** Create or adopt the AbpBackgroundJobs table at start. */
  autoMigrate?: boolean;
  /** Name of the TypeORM DataSource to use (the default one when absent). */
  dataSourceName?: string;
  /**
   * Where jobs are kept: 'typeorm' (default) in the AbpBackgroundJobs table of the TypeORM
   * DataSource; 'memory' in process memory, with no database or TypeORM (for tests of jobs and
   * enqueue calls; inject BACKGROUND_JOB_STORE to see the rows).
   */
  store?: BackgroundJobStoreKind;
  worker?: Partial<BackgroundJobWorkerOptions>;
}

export const DEFAULT_WORKER_OPTIONS: Readonly<BackgroundJobWorkerOptions> = Object.freeze({
  applicationName: null,
  jobPollPeriod: 5000,
  maxJobFetchCount: 1000,
  defaultFirstWaitDuration: 60,
  defaultTimeout: 172_800,
  defaultWaitFactor: 2.0,
  maxParallelJobExecutionCount: 1,
  jobLeaseDuration: 60,
  jobExecutionTimeout: 3600,
  shutdownTimeout: 25,
  jobNames: [],
});

export interface ResolvedBackgroundJobsOptions {
  isJobExecutionEnabled: boolean;
  autoMigrate: boolean;
  dataSourceName?: string;
  worker: BackgroundJobWorkerOptions;
}

export function resolveOptions(options: BackgroundJobsModuleOptions): ResolvedBackgroundJobsOptions {
  const worker: BackgroundJobWorkerOptions = { ...DEFAULT_WORKER_OPTIONS, ...definedOnly(options.worker ?? {}) };
  assertPositive('jobPollPeriod', worker.jobPollPeriod);
  assertPositive('maxJobFetchCount', worker.maxJobFetchCount);
  assertPositive('maxParallelJobExecutionCount', worker.maxParallelJobExecutionCount);
  assertPositive('jobLeaseDuration', worker.jobLeaseDuration);
  assertPositive('defaultWaitFactor', worker.defaultWaitFactor);
  return {
    isJobExecutionEnabled: options.isJobExecutionEnabled ?? true,
    autoMigrate: options.autoMigrate ?? true,
    dataSourceName: options.dataSourceName,
    worker,
  };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function assertPositive(name: string, value: number): void {
  if (!(typeof value === 'number' && value > 0 && Number.isFinite(value))) {
    throw new Error(`Background jobs option ${name} must be a positive number, got ${String(value)}`);
  }
}

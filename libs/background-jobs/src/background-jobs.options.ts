import { checkWorkerConfigurations } from './worker/dedicated-workers';

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
  /** Run none of these job names (the default worker of a process beside dedicated ones); empty: exclude none. */
  excludeJobNames: string[];
  /**
   * ABP 10's `StoreSuccessfulJobs`: a succeeded job's row is kept, with CompletionTime set and the
   * job's result in ExtraProperties.Result, instead of being deleted. Kept rows are never claimed again.
   */
  storeSuccessfulJobs: boolean;
  /** Seconds a kept successful row stays before the cleanup deletes it; null keeps them for good. */
  successfulJobRetentionTime: number | null;
  /** Milliseconds between two runs of the cleanup of kept successful rows. */
  cleanSuccessfulJobsPeriod: number;
  /**
   * ABP 10's `WorkerConfigurations`: dedicated workers in this process, each running only its job
   * names with its own local queue and MaxParallelJobExecutionCount slots; the default worker then
   * runs every other name. Build them with `addDedicatedWorker()`.
   */
  workerConfigurations: BackgroundJobWorkerConfiguration[];
}

/** ABP's `BackgroundJobWorkerConfiguration`: a dedicated worker and the job names it alone runs. */
export interface BackgroundJobWorkerConfiguration {
  /** ABP's lock name: here the worker's name in logs, unique among the workers of a process. */
  lockName: string;
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
  /**
   * ABP's AbpBackgroundJobsDbProperties.DbTablePrefix: "Abp" by default (AbpBackgroundJobs). Our
   * tables beside it and every index name follow it (App -> AppBackgroundJobs, AppBackgroundJobEnqueueKeys,
   * IX_AppBackgroundJobs_Dequeue). Letters, digits and underscores, at most 20.
   */
  tablePrefix?: string;
  /** ABP's DbSchema: none by default (the connection's). On MySQL/MariaDB a database; SQLite has none. */
  schema?: string;
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
  excludeJobNames: [],
  storeSuccessfulJobs: false,
  successfulJobRetentionTime: 7 * 24 * 60 * 60,
  cleanSuccessfulJobsPeriod: 3_600_000,
  workerConfigurations: [],
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
  assertPositive('cleanSuccessfulJobsPeriod', worker.cleanSuccessfulJobsPeriod);
  const retention = worker.successfulJobRetentionTime;
  if (retention !== null && !(typeof retention === 'number' && retention >= 0 && Number.isFinite(retention))) {
    throw new Error(
      `Background jobs option successfulJobRetentionTime must be a number of seconds, not negative, or null (keep), got ${String(retention)}`,
    );
  }
  checkWorkerConfigurations(worker.workerConfigurations);
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

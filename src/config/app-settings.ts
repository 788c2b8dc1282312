import { ConfigService } from '@nestjs/config';
import {
  backgroundJobRecordSchema,
  BackgroundJobWorkerOptions,
  DatabaseConnection,
  parseConnectionString,
} from '@app/background-jobs';
import { parseTrustProxy, TrustProxy } from './trust-proxy';

/**
 * Typed views over the validated settings, shared by the web app and the worker. The database:
 * ConnectionStrings__AbpBackgroundJobs; for `npm run migrate` (`forMigration`),
 * ConnectionStrings__AbpBackgroundJobsMigration when set, a login that may create tables and indexes.
 */
export function databaseConnection(config: ConfigService, { forMigration = false } = {}): DatabaseConnection {
  const migration = forMigration ? config.get<string>('ConnectionStrings__AbpBackgroundJobsMigration') : '';
  try {
    const connection = parseConnectionString(
      migration || config.get<string>('ConnectionStrings__AbpBackgroundJobs'),
      config.get<string>('DatabaseProvider'),
    );
    // The entity maps the table the store uses: BackgroundJobs__DbTablePrefix and __DbSchema apply to it too.
    const entity = backgroundJobRecordSchema(connection.provider, tableNameOptions(config));
    return { ...connection, typeorm: { ...connection.typeorm, entities: [entity] } };
  } catch (error) {
    throw new Error(`Invalid settings:\n  ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/** ABP's DbTablePrefix and DbSchema for the module's tables (BackgroundJobs__DbTablePrefix, BackgroundJobs__DbSchema). */
export function tableNameOptions(config: ConfigService): { tablePrefix: string; schema?: string } {
  return {
    tablePrefix: config.get<string>('BackgroundJobs__DbTablePrefix') ?? 'Abp',
    schema: config.get<string>('BackgroundJobs__DbSchema') || undefined,
  };
}

export function workerOptions(config: ConfigService): BackgroundJobWorkerOptions {
  const get = <T>(key: string) => config.get<T>(`AbpBackgroundJobWorker__${key}`) as T;
  return {
    applicationName: get<string>('ApplicationName') || null,
    jobPollPeriod: get('JobPollPeriod'),
    maxJobFetchCount: get('MaxJobFetchCount'),
    defaultFirstWaitDuration: get('DefaultFirstWaitDuration'),
    defaultTimeout: get('DefaultTimeout'),
    defaultWaitFactor: get('DefaultWaitFactor'),
    maxParallelJobExecutionCount: get('MaxParallelJobExecutionCount'),
    jobLeaseDuration: get('JobLeaseDuration'),
    jobExecutionTimeout: get('JobExecutionTimeout'),
    shutdownTimeout: get('ShutdownTimeout'),
    jobNames: nameList(get('JobNames')),
    excludeJobNames: nameList(get('ExcludeJobNames')),
    storeSuccessfulJobs: get('StoreSuccessfulJobs'),
    successfulJobRetentionTime: get<number | null>('SuccessfulJobRetentionTime'),
    cleanSuccessfulJobsPeriod: get('CleanSuccessfulJobsPeriod'),
    // ABP's AddDedicatedWorker is code (module options); a process's settings say JobNames or ExcludeJobNames.
    workerConfigurations: [],
  };
}

/** A comma-separated list of job names. */
function nameList(value: string): string[] {
  return value
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
}

/** Express's `trust proxy`: which proxies' X-Forwarded-* headers (and so HTTPS) the web app believes. */
export function trustProxy(config: ConfigService): TrustProxy {
  return parseTrustProxy(config.get<string>('Web__TrustProxy') ?? '');
}

import * as Joi from 'joi';
import { parseDurationSeconds } from './time-span';
import { normalizeDashboardPath } from '@app/background-jobs-dashboard/dashboard.options';
import { parseTrustProxy } from './trust-proxy';

/**
 * Every setting, named as .NET users name them (`Section__Key`), with its default. Read from the
 * environment and `.env` by @nestjs/config; a bad value stops the app and names the setting.
 */
const seconds = () => Joi.number().min(0);
export const settingsSchema = Joi.object<Record<string, unknown>>({
  ConnectionStrings__AbpBackgroundJobs: Joi.string().allow('').default(''),
  // `npm run migrate` only: a login that may create tables and indexes; empty: the one above.
  ConnectionStrings__AbpBackgroundJobsMigration: Joi.string().allow('').default(''),
  DatabaseProvider: Joi.string()
    .allow('')
    .valid('', 'Sqlite', 'PostgreSql', 'SqlServer', 'MySql')
    .insensitive()
    .default(''),
  Database__AutoMigrate: Joi.boolean().default(true),
  // ABP's AbpBackgroundJobsDbProperties: DbTablePrefix (AbpBackgroundJobs) and DbSchema (empty: the connection's;
  // on MySQL/MariaDB a database; none on SQLite). Our tables and index names follow both.
  BackgroundJobs__DbTablePrefix: Joi.string()
    .pattern(/^[A-Za-z0-9_]+$/, 'letters, digits and underscores')
    .max(20)
    .default('Abp'),
  BackgroundJobs__DbSchema: Joi.string()
    .pattern(/^[A-Za-z0-9_]+$/, 'letters, digits and underscores')
    .max(63)
    .allow('')
    .default(''),

  AbpBackgroundJobWorker__ApplicationName: Joi.string().max(96).allow('').default(''),
  AbpBackgroundJobWorker__JobPollPeriod: Joi.number().integer().min(1).default(5000),
  AbpBackgroundJobWorker__MaxJobFetchCount: Joi.number().integer().min(1).default(1000),
  AbpBackgroundJobWorker__DefaultFirstWaitDuration: seconds().default(60),
  AbpBackgroundJobWorker__DefaultTimeout: seconds().default(172800),
  AbpBackgroundJobWorker__DefaultWaitFactor: Joi.number().greater(0).default(2.0),
  AbpBackgroundJobWorker__MaxParallelJobExecutionCount: Joi.number().integer().min(1).max(1000).default(1),
  AbpBackgroundJobWorker__JobLeaseDuration: Joi.number().greater(0).default(60),
  AbpBackgroundJobWorker__JobExecutionTimeout: seconds().default(3600),
  AbpBackgroundJobWorker__ShutdownTimeout: seconds().default(25),
  AbpBackgroundJobWorker__JobNames: Joi.string().allow('').default(''),
  AbpBackgroundJobWorker__ExcludeJobNames: Joi.string().allow('').default(''),
  AbpBackgroundJobWorker__StoreSuccessfulJobs: Joi.boolean().default(false),
  // Seconds or a .NET TimeSpan; empty: keep successful rows for good (null).
  AbpBackgroundJobWorker__SuccessfulJobRetentionTime: Joi.any()
    .default(7 * 24 * 60 * 60)
    .custom((value: unknown) => parseDurationSeconds(value)),
  AbpBackgroundJobWorker__CleanSuccessfulJobsPeriod: Joi.number().integer().min(1).default(3_600_000),

  // Empty: the worker opens no port; else /health/live, /health/ready and /metrics on it.
  Worker__HttpPort: Joi.number().port().empty(''),

  PORT: Joi.number().port().default(3000),
  Web__Secret: Joi.string().min(16).allow('').default(''),
  Web__TrustProxy: Joi.string()
    .allow('')
    .default('')
    .custom((value: string) => {
      parseTrustProxy(value);
      return value;
    }),
  Dashboard__Path: Joi.string()
    .default('/jobs')
    .custom((value: string) => normalizeDashboardPath(value)),
  Dashboard__Enabled: Joi.boolean().default(true),
  Dashboard__Username: Joi.string().allow('').default(''),
  // Both or neither: a password with no user name, or the reverse, is a mistake, not an open dashboard.
  Dashboard__Password: Joi.string()
    .allow('')
    .default('')
    .when('Dashboard__Username', {
      is: Joi.string().min(1).required(),
      then: Joi.string().min(1).required().messages({
        'any.required': 'is needed with Dashboard__Username',
        'string.empty': 'is needed with Dashboard__Username',
      }),
      otherwise: Joi.string().valid('').messages({ 'any.only': 'is set, but Dashboard__Username is not' }),
    }),
  Dashboard__ReadOnly: Joi.boolean().default(false),
  // /metrics answers loopback only unless this is true (job names can be sensitive).
  Metrics__AllowRemote: Joi.boolean().default(false),
  Logging__Level: Joi.string().valid('trace', 'debug', 'info', 'warn', 'error', 'fatal').default('info'),
  Logging__Format: Joi.string().valid('auto', 'pretty', 'json').default('auto'),
}).unknown(true);

/** Settings whose value an error line must not print. */
const SECRET_SETTING = /(Password|Secret)$/;

/** `validate` for ConfigModule: one line per bad setting, naming it and its value. */
export function validateSettings(env: Record<string, unknown>): Record<string, unknown> {
  const result = settingsSchema.validate(env, { abortEarly: false, convert: true });
  if (result.error) {
    const lines = result.error.details.map((d) => {
      const key = d.path.join('.');
      const value = SECRET_SETTING.test(key) && env[key] ? '(hidden)' : JSON.stringify(env[key]);
      return `  ${key}=${value}: ${d.message.replace(/^"[^"]+" /, '')}`;
    });
    throw new Error(`Invalid settings:\n${lines.join('\n')}`);
  }
  return result.value;
}

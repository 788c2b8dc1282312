import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import { BackgroundJobRecordEntity } from '../entities/background-job-record.entity';
import { PG_UTC_TYPES } from '../store/dialects/postgres.dialect';
import { parseKeyValues, redact } from './key-values';
import { mysqlConnection } from './mysql-connection';
import { sqlServerConnection } from './sqlserver-connection';

export { parseKeyValues } from './key-values';

import { DatabaseProvider } from './database-provider';

export type { DatabaseProvider } from './database-provider';

export interface DatabaseConnection {
  provider: DatabaseProvider;
  typeorm: DataSourceOptions;
  /** Where it points, without secrets, for start-up logs. */
  description: string;
}

export const DEFAULT_SQLITE_FILE = 'data/background-jobs.db';

const PROVIDER_NAMES: Record<string, DatabaseProvider> = {
  sqlite: 'sqlite',
  postgres: 'postgres',
  postgresql: 'postgres',
  npgsql: 'postgres',
  sqlserver: 'sqlserver',
  mssql: 'sqlserver',
  mysql: 'mysql',
  mariadb: 'mysql',
};

const WORKING_FORMS =
  'an empty value (SQLite file data/background-jobs.db), "Data Source=<file>" (SQLite), ' +
  'a postgres:// or postgresql:// URL or "Host=...;Port=...;Database=...;Username=...;Password=..." (PostgreSQL), ' +
  'an mssql:// URL or "Server=host,1433;Database=...;User Id=...;Password=...;TrustServerCertificate=True" (SQL Server), ' +
  'a mysql:// or mariadb:// URL, or "Server=...;Port=3306;Database=...;User=...;Password=..." with DatabaseProvider=MySql (MySQL/MariaDB)';

/**
 * Reads the connection string `ConnectionStrings__AbpBackgroundJobs` as .NET users write it and
 * picks the database from its form; `DatabaseProvider` overrides the guess.
 */
export function parseConnectionString(value: string | undefined, providerSetting?: string): DatabaseConnection {
  const text = (value ?? '').trim();
  const provider = providerSetting?.trim() ? providerFromSetting(providerSetting) : detectProvider(text);
  switch (provider) {
    case 'sqlite':
      return sqlite(text);
    case 'postgres':
      return postgres(text);
    case 'sqlserver':
      return sqlServerConnection(text);
    case 'mysql':
      return mysqlConnection(text);
  }
}

function providerFromSetting(setting: string): DatabaseProvider {
  const provider = PROVIDER_NAMES[setting.trim().toLowerCase()];
  if (!provider) {
    throw new Error(`DatabaseProvider: "${setting}" is not one of Sqlite, PostgreSql, SqlServer, MySql`);
  }
  return provider;
}

function detectProvider(text: string): DatabaseProvider {
  if (text === '') return 'sqlite';
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();
  if (scheme) {
    if (scheme === 'postgres' || scheme === 'postgresql') return 'postgres';
    if (scheme === 'mssql' || scheme === 'sqlserver') return 'sqlserver';
    if (scheme === 'mysql' || scheme === 'mariadb') return 'mysql';
    throw new Error(`ConnectionStrings__AbpBackgroundJobs: unknown URL scheme "${scheme}://". Use ${WORKING_FORMS}.`);
  }
  const keys = new Set(Object.keys(parseKeyValues(text)));
  if (keys.has('host')) return 'postgres';
  // "Data Source" names a SQLite file too; SqlClient's other keywords tell a SQL Server string apart.
  const sqlServerOnly = ['initial catalog', 'database', 'user id', 'uid', 'trusted_connection', 'integrated security', 'encrypt', 'trustservercertificate'];
  if (keys.has('server') || keys.has('address') || keys.has('addr') || sqlServerOnly.some((k) => keys.has(k))) {
    // SqlClient has no Port keyword (SQL Server takes Server=host,port): this is MySqlConnector's form.
    if (keys.has('port')) {
      throw new Error(
        `ConnectionStrings__AbpBackgroundJobs: "${redact(text)}" has Server and Port, as MySqlConnector's strings do; ` +
          'set DatabaseProvider=MySql for MySQL/MariaDB, or write Server=host,port for SQL Server.',
      );
    }
    return 'sqlserver';
  }
  if (keys.has('data source') || keys.has('datasource') || keys.has('filename')) return 'sqlite';
  throw new Error(`ConnectionStrings__AbpBackgroundJobs: cannot tell the database from "${redact(text)}". Use ${WORKING_FORMS}.`);
}

function sqlite(text: string): DatabaseConnection {
  const kv = text === '' ? {} : parseKeyValues(text);
  const file = kv['data source'] ?? kv['datasource'] ?? kv['filename'] ?? DEFAULT_SQLITE_FILE;
  const database = file === ':memory:' ? file : resolve(file);
  if (database !== ':memory:') mkdirSync(dirname(database), { recursive: true });
  return {
    provider: 'sqlite',
    description: `SQLite ${database}`,
    typeorm: {
      type: 'better-sqlite3',
      database,
      enableWAL: true,
      timeout: 15_000, // busy timeout: the web app and the workers share the file
      entities: [BackgroundJobRecordEntity],
      synchronize: false,
    },
  };
}

function postgres(text: string): DatabaseConnection {
  const common = {
    type: 'postgres' as const,
    entities: [BackgroundJobRecordEntity],
    synchronize: false,
    // A server that stops answering without closing the socket: keep-alive probes notice it, and no
    // query waits longer than query_timeout (the web app answers 503, shutdown is not held up).
    extra: { types: PG_UTC_TYPES, connectionTimeoutMillis: 5000, keepAlive: true, keepAliveInitialDelayMillis: 10_000, query_timeout: 30_000, max: 10 },
  };
  if (/^postgres(ql)?:\/\//i.test(text)) {
    const url = new URL(text);
    return {
      provider: 'postgres',
      description: `PostgreSQL ${url.hostname}:${url.port || 5432}${url.pathname}`,
      typeorm: { ...common, url: text },
    };
  }
  const kv = parseKeyValues(text);
  const host = kv['host'] ?? kv['server'] ?? 'localhost';
  const port = Number(kv['port'] ?? 5432);
  const database = kv['database'] ?? kv['db'];
  if (!Number.isInteger(port)) throw new Error(`ConnectionStrings__AbpBackgroundJobs: Port "${kv['port']}" is not a number`);
  return {
    provider: 'postgres',
    description: `PostgreSQL ${host}:${port}/${database ?? ''}`,
    typeorm: {
      ...common,
      host,
      port,
      database,
      username: kv['username'] ?? kv['user id'] ?? kv['userid'] ?? kv['user'],
      password: kv['password'] ?? kv['pwd'],
      ssl: /^(require|verify-ca|verify-full)$/i.test(kv['ssl mode'] ?? kv['sslmode'] ?? '') ? { rejectUnauthorized: false } : undefined,
      extra: { ...common.extra, max: Number(kv['maximum pool size'] ?? 10) },
    },
  };
}

import { CONNECTION_STRING_SETTING, DatabaseConnection } from './database-connection';
import type { DatabaseProvider } from './database-provider';
import { parseKeyValues, redact } from './key-values';
import { mysqlConnection } from './mysql-connection';
import { postgresConnection } from './postgres-connection';
import { sqliteConnection } from './sqlite-connection';
import { sqlServerConnection } from './sqlserver-connection';

export type { DatabaseConnection } from './database-connection';
export type { DatabaseProvider } from './database-provider';
export { parseKeyValues } from './key-values';
export { DEFAULT_SQLITE_FILE } from './sqlite-connection';

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
      return sqliteConnection(text);
    case 'postgres':
      return postgresConnection(text);
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
    throw new Error(`${CONNECTION_STRING_SETTING}: unknown URL scheme "${scheme}://". Use ${WORKING_FORMS}.`);
  }
  const keys = new Set(Object.keys(parseKeyValues(text)));
  if (keys.has('host')) return 'postgres';
  // "Data Source" names a SQLite file too; SqlClient's other keywords tell a SQL Server string apart.
  const sqlServerOnly = [
    'initial catalog',
    'database',
    'user id',
    'uid',
    'trusted_connection',
    'integrated security',
    'encrypt',
    'trustservercertificate',
  ];
  if (keys.has('server') || keys.has('address') || keys.has('addr') || sqlServerOnly.some((k) => keys.has(k))) {
    // SqlClient has no Port keyword (SQL Server takes Server=host,port): this is MySqlConnector's form.
    if (keys.has('port')) {
      throw new Error(
        `${CONNECTION_STRING_SETTING}: "${redact(text)}" has Server and Port, as MySqlConnector's strings do; ` +
          'set DatabaseProvider=MySql for MySQL/MariaDB, or write Server=host,port for SQL Server.',
      );
    }
    return 'sqlserver';
  }
  if (keys.has('data source') || keys.has('datasource') || keys.has('filename')) return 'sqlite';
  throw new Error(
    `${CONNECTION_STRING_SETTING}: cannot tell the database from "${redact(text)}". Use ${WORKING_FORMS}.`,
  );
}

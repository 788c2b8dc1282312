import { backgroundJobRecordSchema } from '../entities/background-job-record.entity';
import { CONNECTION_STRING_SETTING as SETTING, DatabaseConnection } from './database-connection';
import { parseKeyValues } from './key-values';

interface MysqlSettings {
  host: string;
  port: number;
  database?: string;
  user?: string;
  password?: string;
  sslMode?: string;
  poolSize?: number;
  connectTimeoutSeconds?: number;
}

/**
 * MySQL 8 or MariaDB 10.6+, from a mysql:// or mariadb:// URL or the .NET MySqlConnector form
 * `Server=...;Port=...;Database=...;User=...;Password=...` (chosen with DatabaseProvider=MySql,
 * since that form reads like SQL Server's).
 */
export function mysqlConnection(text: string): DatabaseConnection {
  const s = /^(mysql|mariadb):\/\//i.test(text) ? fromUrl(text) : fromKeyValues(text);
  if (!s.database) throw new Error(`${SETTING}: no database named. Write mysql://user:password@host:3306/database`);
  if (!Number.isInteger(s.port) || s.port <= 0) throw new Error(`${SETTING}: Port "${s.port}" is not a port number`);
  return {
    provider: 'mysql',
    description: `MySQL/MariaDB ${s.host}:${s.port}/${s.database}`,
    typeorm: {
      type: 'mysql',
      host: s.host,
      port: s.port,
      database: s.database,
      username: s.user,
      password: s.password,
      // DATETIME has no zone: 'Z' makes mysql2 write and read the columns as UTC, as ABP stores them.
      timezone: 'Z',
      connectTimeout: (s.connectTimeoutSeconds ?? 5) * 1000,
      poolSize: s.poolSize ?? 10,
      ssl: sslOptions(s.sslMode),
      entities: [backgroundJobRecordSchema('mysql')],
      synchronize: false,
    },
  };
}

function fromUrl(text: string): MysqlSettings {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`${SETTING}: not a valid URL. Write mysql://user:password@host:3306/database`);
  }
  const settings: MysqlSettings = {
    host: url.hostname || 'localhost',
    port: url.port ? Number(url.port) : 3306,
    database: decodeURIComponent(url.pathname.replace(/^\//, '')) || undefined,
    user: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
  };
  for (const [key, value] of url.searchParams) {
    const k = key.toLowerCase();
    if (k === 'sslmode' || k === 'ssl-mode') settings.sslMode = value;
    else if (k === 'ssl') settings.sslMode = /^(true|1|required)$/i.test(value) ? 'Required' : 'None';
    else
      throw new Error(
        `${SETTING}: unknown URL parameter "${key}"; mysql:// URLs take sslmode (None, Required, VerifyCA, VerifyFull)`,
      );
  }
  return settings;
}

function fromKeyValues(text: string): MysqlSettings {
  const kv = parseKeyValues(text);
  const host =
    kv['server'] ??
    kv['host'] ??
    kv['data source'] ??
    kv['datasource'] ??
    kv['address'] ??
    kv['addr'] ??
    kv['network address'];
  if (!host)
    throw new Error(`${SETTING}: no Server. Write Server=host;Port=3306;Database=db;User=user;Password=password`);
  if (host.includes(',')) throw new Error(`${SETTING}: Server="${host}" names several hosts; name one`);
  const number = (key: string, value: string | undefined) => {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${SETTING}: ${key}="${value}" is not a whole number`);
    return n;
  };
  return {
    host,
    port: number('Port', kv['port']) ?? 3306,
    database: kv['database'] ?? kv['initial catalog'],
    user: kv['user'] ?? kv['user id'] ?? kv['userid'] ?? kv['uid'] ?? kv['username'] ?? kv['user name'],
    password: kv['password'] ?? kv['pwd'],
    sslMode: kv['sslmode'] ?? kv['ssl mode'] ?? kv['ssl-mode'],
    poolSize: number('Maximum Pool Size', kv['maximum pool size'] ?? kv['max pool size'] ?? kv['maximumpoolsize']),
    connectTimeoutSeconds: number(
      'Connection Timeout',
      kv['connection timeout'] ?? kv['connect timeout'] ?? kv['connectiontimeout'],
    ),
  };
}

/** MySqlConnector's SslMode: None and Preferred connect without TLS here; Required skips verification; VerifyCA/VerifyFull verify. */
function sslOptions(mode: string | undefined): { rejectUnauthorized: boolean } | undefined {
  if (mode === undefined) return undefined;
  switch (mode.trim().toLowerCase()) {
    case 'none':
    case 'disabled':
    case 'preferred':
      return undefined;
    case 'required':
      return { rejectUnauthorized: false };
    case 'verifyca':
    case 'verifyfull':
    case 'verify_ca':
    case 'verify_identity':
      return { rejectUnauthorized: true };
    default:
      throw new Error(`${SETTING}: SslMode="${mode}" is not one of None, Preferred, Required, VerifyCA, VerifyFull`);
  }
}

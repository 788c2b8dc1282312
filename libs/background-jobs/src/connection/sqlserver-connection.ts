import { backgroundJobRecordSchema } from '../entities/background-job-record.entity';
import { CONNECTION_STRING_SETTING as SETTING, DatabaseConnection } from './database-connection';
import { parseKeyValues } from './key-values';

const EXAMPLE =
  'Server=localhost,1433;Database=<database>;User Id=<login>;Password=<password>;TrustServerCertificate=True';

/** What mssql's own parser returns for an ADO.NET connection string (the parts used here). */
interface MssqlConfig {
  server?: string;
  port?: number;
  database?: string;
  user?: string;
  password?: string;
  domain?: string;
  connectionTimeout?: number;
  options: { instanceName?: string; [key: string]: unknown };
  pool: { max?: number | string; min?: number | string };
}

/**
 * SQL Server, from `Server=host,port;Database=...;User Id=...;Password=...` (read by mssql's own
 * parser) or an `mssql://user:password@host:port/database` URL. What only works on Windows is
 * refused with the string to write instead.
 */
export function sqlServerConnection(text: string): DatabaseConnection {
  const config = /^(mssql|sqlserver):\/\//i.test(text) ? fromUrl(text) : fromAdoNet(text);
  if (!config.server) throw new Error(`${SETTING}: no Server. Write ${EXAMPLE}`);
  if (!config.database) {
    throw new Error(
      `${SETTING}: no Database; without one the login's default database (often master) would get the table. Write ${EXAMPLE}`,
    );
  }
  const instance = config.options.instanceName;
  const where = `${config.server}${instance ? `\\${instance}` : `:${config.port ?? 1433}`}/${config.database}`;
  return {
    provider: 'sqlserver',
    description: `SQL Server ${where}`,
    typeorm: {
      type: 'mssql',
      host: config.server,
      port: config.port ?? 1433,
      database: config.database,
      username: config.user,
      password: config.password,
      // A DOMAIN\user login: mssql signs in with NTLM, which works from Linux (Trusted_Connection does not).
      authentication: config.domain
        ? {
            type: 'ntlm',
            options: { domain: config.domain, userName: config.user ?? '', password: config.password ?? '' },
          }
        : undefined,
      connectionTimeout: config.connectionTimeout ?? 15_000,
      requestTimeout: 30_000, // SqlClient's default command timeout
      pool: { max: Number(config.pool.max ?? 10), min: Number(config.pool.min ?? 0) },
      // useUTC: datetime2 columns hold UTC, as ABP writes them with DateTime.UtcNow (the default clock in UTC mode).
      options: { ...config.options, useUTC: true },
      entities: [backgroundJobRecordSchema('sqlserver')],
      synchronize: false,
    },
  };
}

function fromAdoNet(text: string): MssqlConfig {
  const kv = parseKeyValues(text);
  const server = kv['server'] ?? kv['data source'] ?? kv['address'] ?? kv['addr'] ?? kv['network address'] ?? '';
  if (/^\s*\(localdb\)/i.test(server)) {
    throw new Error(
      `${SETTING}: LocalDB (${server}) is a Windows-only SQL Server that Node cannot reach. Run SQL Server where Node reaches it ` +
        `over TCP (on Linux or macOS the mcr.microsoft.com/mssql/server container) and write ${EXAMPLE}`,
    );
  }
  if (/^\s*np:/i.test(server))
    throw new Error(`${SETTING}: named pipes (${server}) are not supported; connect over TCP: ${EXAMPLE}`);
  const integrated = kv['trusted_connection'] ?? kv['integrated security'];
  if (integrated !== undefined && /^(true|yes|sspi)$/i.test(integrated.trim())) {
    throw new Error(
      `${SETTING}: Windows integrated security (Trusted_Connection / Integrated Security) is not available from Node. ` +
        `Use a SQL Server login: ${EXAMPLE} (or User Id=DOMAIN\\user;Password=... to sign in with NTLM)`,
    );
  }
  const authentication = kv['authentication'];
  if (authentication !== undefined && !/^sql\s*password$/i.test(authentication.trim())) {
    throw new Error(
      `${SETTING}: Authentication=${authentication} is not supported here; use a SQL Server login: ${EXAMPLE}`,
    );
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the driver is loaded only when SQL Server is the database
  const { ConnectionPool } = require('mssql') as {
    ConnectionPool: { parseConnectionString(text: string): MssqlConfig };
  };
  const config = ConnectionPool.parseConnectionString(text);
  // mssql's parser reads Encrypt as a plain boolean, so SqlClient 5's Optional would turn encryption on.
  if (kv['encrypt'] !== undefined) config.options.encrypt = encryptSetting(kv['encrypt']);
  if (kv['trustservercertificate'] !== undefined)
    config.options.trustServerCertificate = boolSetting('TrustServerCertificate', kv['trustservercertificate']);
  return config;
}

function fromUrl(text: string): MssqlConfig {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(
      `${SETTING}: "${text.replace(/:[^:@/]*@/, ':***@')}" is not a valid URL. Write mssql://user:password@host:1433/database`,
    );
  }
  // node-mssql's old URL form puts a named instance before the database: mssql://user:pw@host/INSTANCE/database
  const path = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (path.length > 2) throw new Error(`${SETTING}: the URL path must be /database or /instance/database`);
  const config: MssqlConfig = {
    server: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    database: path[path.length - 1],
    user: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    options: path.length === 2 ? { instanceName: path[0] } : {},
    pool: {},
  };
  for (const [key, value] of url.searchParams) {
    switch (key.toLowerCase()) {
      case 'encrypt':
        config.options.encrypt = encryptSetting(value);
        break;
      case 'trustservercertificate':
        config.options.trustServerCertificate = boolSetting('trustServerCertificate', value);
        break;
      default:
        throw new Error(
          `${SETTING}: unknown URL parameter "${key}"; mssql:// URLs take encrypt and trustServerCertificate`,
        );
    }
  }
  const domainUser = config.user && /^(.+)\\(.+)$/.exec(config.user);
  if (domainUser) [config.domain, config.user] = [domainUser[1], domainUser[2]];
  return config;
}

/** SqlClient's Encrypt: True/Mandatory, False/Optional, or Strict (TDS 8). */
function encryptSetting(value: string): boolean | 'strict' {
  const v = value.trim().toLowerCase();
  if (v === 'strict') return 'strict';
  if (['true', 'yes', 'mandatory'].includes(v)) return true;
  if (['false', 'no', 'optional'].includes(v)) return false;
  throw new Error(`${SETTING}: Encrypt="${value}" is not one of True, False, Mandatory, Optional, Strict`);
}

function boolSetting(name: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (v === 'true' || v === 'yes') return true;
  if (v === 'false' || v === 'no') return false;
  throw new Error(`${SETTING}: ${name}="${value}" is not True or False`);
}

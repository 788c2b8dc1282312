import { backgroundJobRecordSchema } from '../entities/background-job-record.entity';
import { CONNECTION_STRING_SETTING, DatabaseConnection } from './database-connection';
import { parseKeyValues } from './key-values';
import { PG_UTC_TYPES } from './pg-types';

/** PostgreSQL, from a postgres:// or postgresql:// URL or Npgsql's `Host=...;Port=...;Database=...` form. */
export function postgresConnection(text: string): DatabaseConnection {
  const common = {
    type: 'postgres' as const,
    entities: [backgroundJobRecordSchema('postgres')],
    synchronize: false,
    // A server that stops answering without closing the socket: keep-alive probes notice it, and no
    // query waits longer than query_timeout (the web app answers 503, shutdown is not held up).
    extra: {
      types: PG_UTC_TYPES,
      connectionTimeoutMillis: 5000,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      query_timeout: 30_000,
      max: 10,
    },
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
  if (!Number.isInteger(port)) throw new Error(`${CONNECTION_STRING_SETTING}: Port "${kv['port']}" is not a number`);
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
      ssl: /^(require|verify-ca|verify-full)$/i.test(kv['ssl mode'] ?? kv['sslmode'] ?? '')
        ? { rejectUnauthorized: false }
        : undefined,
      extra: { ...common.extra, max: Number(kv['maximum pool size'] ?? 10) },
    },
  };
}

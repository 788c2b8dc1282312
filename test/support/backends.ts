import type { DatabaseProvider } from '@app/background-jobs/connection/database-provider';
import { createPostgresDatabase, createSqliteDatabase, TestDatabase } from './databases';
import { createMssqlDatabase, MSSQL_CONNECTION_STRING } from './mssql-database';
import { createMysqlDatabase } from './mysql-database';
import { createMemoryDatabase } from './open-store';

/**
 * The databases every store-level suite runs against, unchanged. A backend whose server is
 * optional here (SQL Server) has `available: false` and a reason, and the suite says it skipped.
 */
export interface Backend {
  name: DatabaseProvider;
  provider?: string;
  available: boolean;
  skipReason?: string;
  create(): Promise<TestDatabase>;
}

export const backends: Backend[] = [
  { name: 'sqlite', available: true, create: createSqliteDatabase },
  { name: 'postgres', available: true, create: createPostgresDatabase },
  { name: 'mysql', available: true, create: createMysqlDatabase },
  {
    name: 'sqlserver',
    available: MSSQL_CONNECTION_STRING !== undefined,
    skipReason:
      'set MSSQL_CONNECTION_STRING (e.g. "Server=localhost,1433;User Id=sa;Password=...;TrustServerCertificate=True") to run against SQL Server',
    create: createMssqlDatabase,
  },
];

/** A backend of the store contract: the SQL databases above, and the in-memory store (no SQL behind it). */
export interface StoreBackend extends Omit<Backend, 'name'> {
  name: DatabaseProvider | 'memory';
  /** False: tests of tables or connections (legacy DDL, an unreachable server) do not apply. */
  sql: boolean;
}

export const storeBackends: StoreBackend[] = [
  ...backends.map((backend) => ({ ...backend, sql: true })),
  { name: 'memory', sql: false, available: true, create: createMemoryDatabase },
];

/** A backend's name for a describe title, with the reason in it when the backend is skipped. */
export function backendLabel(backend: Backend | StoreBackend): string {
  return backend.available ? backend.name : `${backend.name} (skipped: ${backend.skipReason ?? 'not available'})`;
}

/**
 * Call first inside the `describe` of a backend: when its server is not available, registers one
 * skipped test carrying the reason and returns true (the caller then registers nothing else).
 */
export function skipUnavailable(backend: Backend | StoreBackend): boolean {
  if (backend.available) return false;
  it.skip(`skipped: ${backend.skipReason ?? 'not available'}`, () => undefined);
  return true;
}

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';

/**
 * Fresh databases for tests: each call makes a new one and returns its connection string and a
 * function that drops it. Servers: the machine's PostgreSQL (PG_ADMIN_URL) and MariaDB
 * (MYSQL_ADMIN_URL); SQL Server only when MSSQL_CONNECTION_STRING names one.
 */
export interface TestDatabase {
  name: string;
  /** As a user writes it in ConnectionStrings__AbpBackgroundJobs. */
  connectionString: string;
  drop(): Promise<void>;
}

export const PG_ADMIN_URL = process.env.PG_ADMIN_URL ?? 'postgresql://root@127.0.0.1:5432/postgres';

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

export async function createSqliteDatabase(): Promise<TestDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'bj-sqlite-'));
  const file = join(dir, 'jobs.db');
  return {
    name: file,
    connectionString: `Data Source=${file}`,
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

export async function createPostgresDatabase(): Promise<TestDatabase> {
  const name = uniqueName('bjtest');
  await withPgAdmin((c) => c.query(`CREATE DATABASE "${name}"`));
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name,
    connectionString: url.toString(),
    drop: () => withPgAdmin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}

async function withPgAdmin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Whether a test needing this server may be skipped: only off CI, where every server must be up. */
export function mustRun(): boolean {
  return process.env.CI === 'true';
}

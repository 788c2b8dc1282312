import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { sleep } from '../../test/support/wait-for';
import { onCleanup } from './cleanup';
import { commandCpuMs, cpuBetween, POSTGRES_COMMANDS } from './cpu';

export const PG_ADMIN_URL = process.env.PG_ADMIN_URL ?? 'postgresql://root@127.0.0.1:5432/postgres';

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A fresh database, dropped (connections and all) at cleanup or when `drop` is called. */
export async function createDatabase(prefix: string): Promise<BenchDatabase> {
  const name = `bench_${prefix}_${Date.now().toString(36)}_${randomBytes(2).toString('hex')}`;
  await withAdmin((c) => c.query(`CREATE DATABASE "${name}"`));
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  const drop = onCleanup(`drop database ${name}`, () =>
    withAdmin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  );
  return { name, url: url.toString(), drop };
}

export async function withAdmin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  return withClient(PG_ADMIN_URL, work);
}

export async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A connection kept open for the whole of a measurement (counting rows, enqueueing). */
export async function openClient(url: string): Promise<Client> {
  const client = new Client({ connectionString: url });
  await client.connect();
  onCleanup('close pg client', () => client.end().catch(() => undefined));
  return client;
}

/** How many sessions of `database` are LISTENing (workers whose notification connection is up). */
export async function listenerCount(database: string): Promise<number> {
  return withAdmin(async (c) => {
    const { rows } = await c.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND query ILIKE 'LISTEN %'`,
      [database],
    );
    return rows[0].n;
  });
}

const SETTLE_SAMPLE_MS = 250;
/** PostgreSQL counts as quiet below this much CPU per sample (10% of a core). */
const SETTLE_QUIET_CPU_MS = 25;

/**
 * Clears up after a round so its aftermath does not fall on the next system's round: VACUUM in
 * every bench database (the rows the round deleted, which autovacuum would otherwise clean up at
 * some moment of a later round), a CHECKPOINT (the round's dirty buffers written now, not while
 * the next system runs), then waits until the server's processes use under 10% of a core, at most
 * `timeoutMs`. False when the server did not go quiet in time.
 */
export async function settlePostgres(timeoutMs = 20_000): Promise<boolean> {
  const databases = await withAdmin(async (c) =>
    (await c.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'bench\\_%'`)).rows.map(
      (r) => r.datname,
    ),
  );
  const url = new URL(PG_ADMIN_URL);
  for (const name of databases) {
    url.pathname = `/${name}`;
    // A database dropped meanwhile (a system disposed of) is no longer this round's business.
    await withClient(url.toString(), (c) => c.query('VACUUM')).catch(() => undefined);
  }
  await withAdmin((c) => c.query('CHECKPOINT'));
  const until = Date.now() + timeoutMs;
  for (;;) {
    const before = commandCpuMs(POSTGRES_COMMANDS);
    await sleep(SETTLE_SAMPLE_MS);
    if (cpuBetween(before, commandCpuMs(POSTGRES_COMMANDS)) < SETTLE_QUIET_CPU_MS) return true;
    if (Date.now() > until) return false;
  }
}

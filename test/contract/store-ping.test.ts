import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteBackgroundJobStore } from '@app/background-jobs/store/dialects/sqlite.dialect';
import { TcpProxy } from '../e2e/support/tcp-proxy';
import { backends } from '../support/backends';
import { openStore } from '../support/open-store';
import { describeOnStoreBackends } from '../support/store-suite';

/**
 * ping() is what /health asks: it answers on a live database without reading the table, and on
 * one that cannot be reached it fails with an error isUnavailable() recognises (so the probe says
 * 503 and the worker backs off). A network database becomes unreachable by cutting a TCP proxy
 * between the store and the server; a SQLite file by another connection holding an exclusive lock
 * on it, as another process would.
 */
jest.setTimeout(30_000);

/** Where a network database's connection string points, and the same string pointed at another port on this machine. */
function endpoint(connectionString: string): { host: string; port: number; via(port: number): string } {
  if (/^[a-z]+:\/\//i.test(connectionString)) {
    const url = new URL(connectionString);
    const defaults: Record<string, number> = {
      'postgres:': 5432,
      'postgresql:': 5432,
      'mysql:': 3306,
      'mariadb:': 3306,
      'mssql:': 1433,
      'sqlserver:': 1433,
    };
    return {
      host: url.hostname,
      port: url.port ? Number(url.port) : defaults[url.protocol],
      via: (port) => Object.assign(new URL(connectionString), { hostname: '127.0.0.1', port: String(port) }).toString(),
    };
  }
  const server = /(?:^|;)\s*(?:Server|Data Source)\s*=\s*(?:tcp:)?([^;,]+)(?:,(\d+))?/i.exec(connectionString);
  if (!server) throw new Error(`No server in ${connectionString}`);
  return {
    host: server[1],
    port: server[2] ? Number(server[2]) : 1433,
    via: (port) =>
      connectionString.replace(server[0], `${server[0].startsWith(';') ? ';' : ''}Server=127.0.0.1,${port}`),
  };
}

describeOnStoreBackends(
  'BackgroundJobStore.ping: %s',
  backends,
  (suite) => {
    const { backend } = suite;
    const cleanups: Array<() => unknown> = [];

    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
    });

    it('resolves on a live database, before the table exists', async () => {
      const opened = await openStore(suite.database.connectionString, backend.provider);
      cleanups.push(() => opened.close());
      await expect(opened.store.ping()).resolves.toBeUndefined();
    });

    if (backend.name === 'sqlite') {
      it('rejects with an unavailable error while another connection holds the file locked', async () => {
        const dir = mkdtempSync(join(tmpdir(), 'bj-ping-'));
        cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
        const file = join(dir, 'jobs.db');
        const holder = new Database(file);
        cleanups.push(() => holder.close());
        holder.pragma('journal_mode = WAL');
        holder.pragma('locking_mode = EXCLUSIVE');
        holder.exec('BEGIN EXCLUSIVE');
        cleanups.push(() => holder.exec('ROLLBACK'));

        const handle = new Database(file, { timeout: 100 });
        cleanups.push(() => handle.close());
        const store = new SqliteBackgroundJobStore(handle);
        const error = await store.ping().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeDefined();
        expect(store.isUnavailable(error)).toBe(true);
      });
    } else {
      it('rejects with an unavailable error once the server cannot be reached', async () => {
        const target = endpoint(suite.database.connectionString);
        const proxy = new TcpProxy(target.host, target.port);
        await proxy.start();
        cleanups.push(() => proxy.stop());
        const opened = await openStore(target.via(proxy.port), backend.provider);
        cleanups.push(() => opened.close());
        await expect(opened.store.ping()).resolves.toBeUndefined();

        await proxy.cut();
        const error = await opened.store.ping().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeDefined();
        expect(opened.store.isUnavailable(error)).toBe(true);
      });
    }
  },
  { perTest: true, open: false },
);

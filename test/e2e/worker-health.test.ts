import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backends } from '../support/backends';
import type { TestDatabase } from '../support/databases';
import { freePort } from '../support/free-port';
import type { NodeProcess } from '../support/node-process';
import { waitFor } from '../support/wait-for';
import { spawnApp, startWorker } from './support/apps';
import { scrape } from './support/scrape';
import { TcpProxy } from './support/tcp-proxy';
import { PROXIED_PORTS } from './support/web-behind-proxy';

jest.setTimeout(90_000);

interface Health {
  status: 'ok' | 'error';
  details: Record<string, { status: 'up' | 'down'; [key: string]: unknown }>;
}

async function health(baseUrl: string, path: string): Promise<{ status: number; body: Health }> {
  const response = await fetch(`${baseUrl}${path}`);
  return { status: response.status, body: (await response.json()) as Health };
}

/** Starts a worker with Worker__HttpPort and waits for its port; returns it and its base URL. */
async function workerWithPort(
  connectionString: string,
  env: Record<string, string> = {},
): Promise<{ worker: NodeProcess; baseUrl: string }> {
  const port = await freePort();
  const worker = await startWorker({ connectionString, env: { Worker__HttpPort: String(port), ...env } });
  await worker.waitForLog(`Worker HTTP server listening on port ${port}`);
  return { worker, baseUrl: `http://127.0.0.1:${port}` };
}

const proxied = backends.filter((b) => PROXIED_PORTS[b.name] !== undefined).map((b) => [b.name, b] as const);

/**
 * The worker's own port (Worker__HttpPort): liveness while the claim loop goes round, readiness
 * while the database answers. The database is cut by a TCP proxy between the worker and its server.
 */
describe.each(proxied)('worker health paths on %s', (_name, backend) => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let worker: NodeProcess;
  let baseUrl: string;

  beforeAll(async () => {
    db = await backend.create();
    const target = new URL(db.connectionString);
    proxy = new TcpProxy(target.hostname, Number(target.port || PROXIED_PORTS[backend.name]));
    await proxy.start();
    const viaProxy = new URL(db.connectionString);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    ({ worker, baseUrl } = await workerWithPort(viaProxy.toString()));
  });

  afterAll(async () => {
    await worker?.stop();
    await proxy?.stop();
    await db?.drop();
  });

  it('is live and ready; readiness drops while the database is cut, liveness stays, and both recover', async () => {
    const live = await health(baseUrl, '/health/live');
    expect(live.status).toBe(200);
    expect(live.body.details.claimLoop).toMatchObject({ status: 'up', state: 'running' });
    const ready = await health(baseUrl, '/health/ready');
    expect(ready).toEqual({
      status: 200,
      body: expect.objectContaining({
        status: 'ok',
        details: { database: { status: 'up', dialect: backend.name }, schema: { status: 'up' } },
      }) as unknown,
    });

    await proxy.cut();
    const down = await health(baseUrl, '/health/ready');
    expect(down.status).toBe(503);
    expect(down.body.details.database).toMatchObject({ status: 'down', message: 'The job database is not reachable' });
    expect(JSON.stringify(down.body)).not.toContain(String(proxy.port)); // no connection details
    // The claim loop keeps going round (backing off) while the database is away: the worker is not stuck.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await health(baseUrl, '/health/live')).status).toBe(200);
    expect((await scrape(baseUrl)).value('background_jobs_database_up')).toBe(0);

    await proxy.restore();
    await waitFor(
      'readiness to come back',
      async () => (await health(baseUrl, '/health/ready')).status === 200,
      30_000,
    );
    worker.assertRunning();
  });

  it('serves only its three paths, to GET and HEAD', async () => {
    expect((await fetch(`${baseUrl}/`)).status).toBe(404);
    expect((await fetch(`${baseUrl}/health`)).status).toBe(404);
    const post = await fetch(`${baseUrl}/health/live`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const head = await fetch(`${baseUrl}/metrics`, { method: 'HEAD' });
    expect(head.status).toBe(200);
  });

  it('exits 0 on SIGTERM', async () => {
    expect(await worker.stop()).toEqual({ code: 0, signal: null });
  });
});

/** Readiness also needs the schema: a worker told not to migrate an empty database is live but not ready. */
describe('worker readiness without the schema (SQLite, Database__AutoMigrate=false)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bj-e2e-schema-'));
  let worker: NodeProcess | undefined;

  afterAll(async () => {
    await worker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 naming the schema, and 200 to liveness', async () => {
    let baseUrl: string;
    ({ worker, baseUrl } = await workerWithPort(`Data Source=${join(dir, 'jobs.db')}`, {
      Database__AutoMigrate: 'false',
    }));
    const ready = await health(baseUrl, '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.details).toEqual({
      database: { status: 'up', dialect: 'sqlite' },
      schema: { status: 'down', message: expect.stringContaining('npm run migrate') as unknown },
    });
    expect((await health(baseUrl, '/health/live')).status).toBe(200);
  });
});

describe('a worker without Worker__HttpPort', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bj-e2e-noport-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('opens no port', async () => {
    const worker = spawnApp('worker', {
      ConnectionStrings__AbpBackgroundJobs: `Data Source=${join(dir, 'jobs.db')}`,
      Logging__Format: 'json',
    });
    try {
      await worker.waitForLog('Worker started', 30_000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(worker.hasLine('Worker HTTP server listening')).toBe(false);
    } finally {
      expect(await worker.stop()).toEqual({ code: 0, signal: null });
    }
  });
});

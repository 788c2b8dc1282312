import { resolve } from 'node:path';
import { NodeProcess } from '../../support/node-process';
import { waitFor } from '../../support/wait-for';
import { freePort } from '../../support/free-port';

/** The build under test; `npm run build` must have run (under /tmp/dist.lock). */
export const DIST_DIR = resolve(__dirname, '../../../dist');

export type AppKind = 'web' | 'worker';

export const WEB_SECRET = 'e2e-secret-0123456789abcdef';

/** Settings every e2e app gets: JSON logs to read, a fixed secret, and a short poll so SQLite jobs run promptly. */
function baseEnv(connectionString: string | undefined): Record<string, string> {
  return {
    ...(connectionString === undefined ? {} : { ConnectionStrings__AbpBackgroundJobs: connectionString }),
    Web__Secret: WEB_SECRET,
    Logging__Format: 'json',
    AbpBackgroundJobWorker__JobPollPeriod: '200',
  };
}

/**
 * A real `node dist/main.<kind>.js` with exactly `env` as its settings, in `cwd` (default: the
 * repository, as a user runs it). Not waited for.
 */
export function spawnApp(kind: AppKind, env: Record<string, string>, cwd = resolve(DIST_DIR, '..')): NodeProcess {
  return new NodeProcess({ name: kind, script: resolve(DIST_DIR, `main.${kind}.js`), env, cwd });
}

export interface StartOptions {
  /** Undefined leaves ConnectionStrings__AbpBackgroundJobs unset (the app's default). */
  connectionString: string | undefined;
  env?: Record<string, string>;
  cwd?: string;
}

export interface WebApp {
  app: NodeProcess;
  baseUrl: string;
}

/** Starts `node dist/main.web.js` on a free port and waits until it answers HTTP. */
export async function startWeb(options: StartOptions): Promise<WebApp> {
  const port = await freePort();
  const app = spawnApp(
    'web',
    { ...baseEnv(options.connectionString), PORT: String(port), ...options.env },
    options.cwd,
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      'the web app to answer',
      async () => {
        app.assertRunning();
        return (await fetch(`${baseUrl}/health`)).status > 0;
      },
      30_000,
    );
  } catch (error) {
    await app.stop();
    throw error;
  }
  return { app, baseUrl };
}

/** Starts `node dist/main.worker.js` and waits for "Worker started". */
export async function startWorker(options: StartOptions): Promise<NodeProcess> {
  const app = spawnApp('worker', { ...baseEnv(options.connectionString), ...options.env }, options.cwd);
  try {
    await app.waitForLog('Worker started', 30_000);
  } catch (error) {
    await app.stop();
    throw error;
  }
  return app;
}

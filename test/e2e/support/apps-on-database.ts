import type { Backend } from '../../support/backends';
import type { TestDatabase } from '../../support/databases';
import type { NodeProcess } from '../../support/node-process';
import { setByHooks } from '../../support/set-by-hooks';
import { startWeb, startWorker, WebApp } from './apps';

/** The apps of a describe block; read the fields inside hooks and tests, where they are set. */
export interface AppsOnDatabase {
  db: TestDatabase;
  web: WebApp;
  /** Only with `worker: true`. */
  worker: NodeProcess;
}

/**
 * Registers, in the calling describe, the start of a fresh database of `backend` with the web app
 * (and a worker with `worker: true`), both with the settings `env`, on it before its tests, and after them the stop of both and
 * the drop of the database.
 */
export function appsOnFreshDatabase(
  backend: Backend,
  { worker = false, env = {} }: { worker?: boolean; env?: Record<string, string> } = {},
): Readonly<AppsOnDatabase> {
  const apps: Partial<AppsOnDatabase> = {};

  beforeAll(async () => {
    apps.db = await backend.create();
    apps.web = await startWeb({ connectionString: apps.db.connectionString, env });
    if (worker) apps.worker = await startWorker({ connectionString: apps.db.connectionString, env });
  });

  afterAll(async () => {
    await Promise.all([apps.web?.app.stop(), apps.worker?.stop()]);
    await apps.db?.drop();
  });

  return setByHooks(apps);
}

import type { Backend } from '../../support/backends';
import type { TestDatabase } from '../../support/databases';
import type { NodeProcess } from '../../support/node-process';
import { startWeb, startWorker, WebApp } from './apps';
import { setByHook } from '../../support/set-by-hook';

/** The apps of a describe block; read the fields inside hooks and tests, where they are set. */
export interface AppsOnDatabase {
  readonly db: TestDatabase;
  readonly web: WebApp;
  /** Only with `worker: true`. */
  readonly worker: NodeProcess;
}

/**
 * Registers, in the calling describe, the start of a fresh database of `backend` with the web app
 * (and a worker with `worker: true`) on it before its tests, and after them the stop of both and
 * the drop of the database.
 */
export function appsOnFreshDatabase(backend: Backend, { worker: withWorker = false } = {}): AppsOnDatabase {
  let db: TestDatabase | undefined;
  let web: WebApp | undefined;
  let worker: NodeProcess | undefined;

  beforeAll(async () => {
    db = await backend.create();
    web = await startWeb({ connectionString: db.connectionString });
    if (withWorker) worker = await startWorker({ connectionString: db.connectionString });
  });

  afterAll(async () => {
    await Promise.all([web?.app.stop(), worker?.stop()]);
    await db?.drop();
  });

  return {
    get db() {
      return setByHook(db, 'database');
    },
    get web() {
      return setByHook(web, 'web app');
    },
    get worker() {
      return setByHook(worker, 'worker (worker: true?)');
    },
  };
}

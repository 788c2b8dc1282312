import type { BackgroundJobStore } from '@app/background-jobs';
import type { DatabaseProvider } from '@app/background-jobs/connection/database-provider';
import { NodeProcess } from '../../support/node-process';
import { spawnFixtureWorker, untilPolling, WorkerSettings } from './fixture-worker';
import { openScaleDatabase, ScaleDatabase, scaleBackends } from './scale-database';

/** What a scale test works with: its own database, and the workers it starts on it. */
export interface ScaleContext {
  /** The backend's name, for report lines. */
  readonly name: DatabaseProvider;
  /** This test's fresh database (a new one for each test). */
  readonly database: ScaleDatabase;
  readonly store: BackgroundJobStore;
  /** Every worker this test spawned, in order. */
  readonly workers: NodeProcess[];
  /** Spawns a fixture worker on this test's database, without waiting for it. */
  spawnWorker(settings?: WorkerSettings): NodeProcess;
  /** Spawns a fixture worker and waits until it polls. */
  startWorker(settings?: WorkerSettings): Promise<NodeProcess>;
  /** Spawns `count` workers at once and waits until all of them poll. */
  startWorkers(count: number, settings?: WorkerSettings): Promise<NodeProcess[]>;
}

/**
 * `describe`s `title` ("%s: " + title) once per scale backend (or the `only` ones among them).
 * Each test gets a fresh database; after it, every worker it left running is killed (SIGKILL: a
 * test that failed may have left them stuck) and the database is dropped.
 *
 * Hooks that `body` declares run inside these: its beforeEach after the database is open, its
 * afterEach before the workers are killed and the database dropped (jest runs one block's afterEach
 * hooks in the order they were declared, and this one is declared after `body`).
 */
export function describeOnScaleBackends(
  title: string,
  body: (ctx: ScaleContext) => void,
  options: { only?: DatabaseProvider[] } = {},
): void {
  const chosen = scaleBackends.filter((b) => options.only === undefined || options.only.includes(b.name));
  describe.each(chosen.map((b) => [b.name, b] as const))(`%s: ${title}`, (name, backend) => {
    let database: ScaleDatabase | undefined;
    const workers: NodeProcess[] = [];
    const ctx: ScaleContext = {
      name,
      get database() {
        if (!database) throw new Error('the scale database exists only while a test runs');
        return database;
      },
      get store() {
        return ctx.database.store;
      },
      workers,
      spawnWorker(settings) {
        const worker = spawnFixtureWorker(ctx.database.db.connectionString, settings);
        workers.push(worker);
        return worker;
      },
      startWorker: (settings) => untilPolling(ctx.spawnWorker(settings)),
      startWorkers: (count, settings) => Promise.all(Array.from({ length: count }, () => ctx.startWorker(settings))),
    };

    beforeEach(async () => {
      database = await openScaleDatabase(backend);
    });

    body(ctx);

    afterEach(async () => {
      await Promise.all(workers.splice(0).map((w) => w.stop('SIGKILL', 10_000)));
      await database?.dispose();
      database = undefined;
    });
  });
}

import type { BackgroundJobStore } from '@app/background-jobs';
import { Backend, backendLabel, skipUnavailable, StoreBackend } from './backends';
import type { TestDatabase } from './databases';
import { openStore } from './open-store';
import { setByHooks } from './set-by-hooks';

export type OpenedStore = Awaited<ReturnType<typeof openStore>>;

/** What a suite's tests reach through: read its fields inside hooks and tests, where they are set. */
export interface StoreSuite<B extends Backend | StoreBackend> {
  backend: B;
  /** The suite's database, fresh for the suite (or for each test with `perTest`). */
  database: TestDatabase;
  /** The store opened on `database` (migrated unless `migrate: false`). */
  opened: OpenedStore;
  store: BackgroundJobStore;
  /** Opens another store (on `database` unless told), closed after the suite or test. */
  open: (connectionString?: string) => Promise<OpenedStore>;
  /** Another fresh database of the backend, dropped after the suite or test. */
  freshDatabase: () => Promise<TestDatabase>;
}

export interface StoreSuiteOptions {
  /** A fresh database and store for each test instead of one for the suite. */
  perTest?: boolean;
  /** False: the tests migrate themselves (they look at what migrate() does). */
  migrate?: boolean;
  /** False: only the database is made; the tests open what they need. */
  open?: boolean;
}

/**
 * One describe per backend (`title` may hold %s for its name), the tests of an unavailable one
 * reported as skipped, each on a fresh database with the store open on it; everything opened or
 * made through the suite is closed and dropped afterwards.
 */
export function describeOnStoreBackends<B extends Backend | StoreBackend>(
  title: string,
  list: readonly B[],
  body: (suite: Readonly<StoreSuite<B>>) => void,
  { perTest = false, migrate = true, open = true }: StoreSuiteOptions = {},
): void {
  describe.each(list.map((b) => [backendLabel(b), b] as const))(title, (_label, backend) => {
    if (skipUnavailable(backend)) return;

    const extra: OpenedStore[] = [];
    const extraDatabases: TestDatabase[] = [];
    const fields: Partial<StoreSuite<B>> = {
      backend,
      open: async (connectionString = suite.database.connectionString) => {
        const another = await openStore(connectionString, backend.provider);
        extra.push(another);
        return another;
      },
      freshDatabase: async () => {
        const db = await backend.create();
        extraDatabases.push(db);
        return db;
      },
    };
    const suite = setByHooks(fields);

    (perTest ? beforeEach : beforeAll)(async () => {
      fields.database = await backend.create();
      if (!open) return;
      fields.opened = await openStore(fields.database.connectionString, backend.provider);
      fields.store = fields.opened.store;
      if (migrate) await fields.store.migrate();
    });

    body(suite);

    // After the body's own after-hooks, which may still use the store or the database.
    (perTest ? afterEach : afterAll)(async () => {
      for (const another of extra.splice(0)) await another.close().catch(() => undefined);
      await fields.opened?.close().catch(() => undefined);
      for (const db of [...extraDatabases.splice(0), fields.database]) await db?.drop();
      fields.opened = fields.store = fields.database = undefined;
    });
  });
}

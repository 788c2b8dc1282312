import type { BackgroundJobStore } from '@app/background-jobs';
import type { Backend, StoreBackend } from './backends';
import type { TestDatabase } from './databases';
import { openStore } from './open-store';
import { setByHook } from './set-by-hook';

export type OpenedStore = Awaited<ReturnType<typeof openStore>>;

/** What a suite's tests reach through: read its fields inside hooks and tests, where they are set. */
export interface StoreSuite<B extends Backend | StoreBackend> {
  readonly backend: B;
  /** The suite's database, fresh for the suite (or for each test with `perTest`). */
  readonly database: TestDatabase;
  /** The store opened on `database` (migrated unless `migrate: false`). */
  readonly opened: OpenedStore;
  readonly store: BackgroundJobStore;
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

const label = (b: Backend | StoreBackend) =>
  b.available ? b.name : `${b.name} (skipped: ${b.skipReason ?? 'not available'})`;

/**
 * One describe per backend (`title` may hold %s for its name), the tests of an unavailable one
 * reported as skipped, each on a fresh database with the store open on it; everything opened or
 * made through the suite is closed and dropped afterwards.
 */
export function describeOnStoreBackends<B extends Backend | StoreBackend>(
  title: string,
  list: readonly B[],
  body: (suite: StoreSuite<B>) => void,
  { perTest = false, migrate = true, open = true }: StoreSuiteOptions = {},
): void {
  describe.each(list.map((b) => [label(b), b] as const))(title, (_label, backend) => {
    if (!backend.available) {
      it.skip(`skipped: ${backend.skipReason ?? 'not available'}`, () => undefined);
      return;
    }

    let database: TestDatabase | undefined;
    let opened: OpenedStore | undefined;
    const extra: OpenedStore[] = [];
    const extraDatabases: TestDatabase[] = [];

    const suite: StoreSuite<B> = {
      backend,
      get database() {
        return setByHook(database, 'database');
      },
      get opened() {
        return setByHook(opened, 'store (open: false?)');
      },
      get store() {
        return setByHook(opened, 'store (open: false?)').store;
      },
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

    (perTest ? beforeEach : beforeAll)(async () => {
      database = await backend.create();
      if (!open) return;
      opened = await openStore(database.connectionString, backend.provider);
      if (migrate) await opened.store.migrate();
    });

    body(suite);

    // After the body's own after-hooks, which may still use the store or the database.
    (perTest ? afterEach : afterAll)(async () => {
      for (const another of extra.splice(0)) await another.close().catch(() => undefined);
      await opened?.close().catch(() => undefined);
      for (const db of [...extraDatabases.splice(0), database]) await db?.drop();
      opened = undefined;
      database = undefined;
    });
  });
}

import { resolve } from 'node:path';
import type { BackgroundJobStore } from '@app/background-jobs';
import type { TestDatabase } from '../../support/databases';
import { NodeProcess } from '../../support/node-process';
import { openStore } from '../../support/open-store';
import { setByHooks } from '../../support/set-by-hooks';
import { DIST_DIR } from './apps';
import type { Backend } from '../../support/backends';

/** One run of the built CLI: its exit code and what it printed. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliSuite {
  /** This describe's database, migrated, and a store on it (set in beforeAll). */
  readonly db: TestDatabase;
  readonly store: BackgroundJobStore;
  /** Runs `node dist/cli.js <args>` on this database, as `npm run jobs -- <args>` does. */
  jobs(...args: string[]): Promise<CliRun>;
}

/**
 * For a describe of CLI tests: a fresh database of `backend` (migrated, with a store on it) made in
 * beforeAll and dropped in afterAll, and a way to run the built CLI against it.
 */
export function cliOnFreshDatabase(backend: Backend): CliSuite {
  const fields: { db?: TestDatabase; store?: BackgroundJobStore; close?: () => Promise<void> } = {};
  const suite = setByHooks(fields as Required<typeof fields>);

  beforeAll(async () => {
    fields.db = await backend.create();
    const opened = await openStore(fields.db.connectionString, backend.provider);
    await opened.store.migrate();
    fields.store = opened.store;
    fields.close = opened.close;
  });
  afterAll(async () => {
    await fields.close?.();
    await fields.db?.drop();
  });

  return {
    get db() {
      return suite.db;
    },
    get store() {
      return suite.store;
    },
    async jobs(...args: string[]): Promise<CliRun> {
      const child = new NodeProcess({
        name: `jobs ${args.slice(0, 2).join(' ')}`,
        script: resolve(DIST_DIR, 'cli.js'),
        args,
        env: { ConnectionStrings__AbpBackgroundJobs: suite.db.connectionString, Logging__Format: 'json' },
      });
      const { code } = await child.closedWithin(60_000);
      return { code, stdout: child.rawStdout.join('\n'), stderr: child.stderr };
    },
  };
}

import { DataSource } from 'typeorm';
import { BackgroundJobRecord, BackgroundJobStore } from '@app/background-jobs';
import { backends, Backend } from '../../support/backends';
import { TestDatabase } from '../../support/databases';
import { jobRecord } from '../../support/job-records';
import { openStore } from '../../support/open-store';

/**
 * The multi-process tests run on the databases this machine always has (SQLite, PostgreSQL,
 * MariaDB); SQL Server gets the store-level suites and the end-to-end tests.
 */
export const scaleBackends: Backend[] = backends.filter(
  (b) => b.available && ['sqlite', 'postgres', 'mysql'].includes(b.name),
);

/** A fresh database with the table created, and the store the test reads and writes it through. */
export interface ScaleDatabase {
  db: TestDatabase;
  store: BackgroundJobStore;
  dataSource: DataSource;
  dispose(): Promise<void>;
}

export async function openScaleDatabase(backend: Backend): Promise<ScaleDatabase> {
  const db = await backend.create();
  const { store, dataSource, close } = await openStore(db.connectionString, backend.provider);
  await store.migrate();
  return {
    db,
    store,
    dataSource,
    dispose: async () => {
      await close().catch(() => undefined);
      await db.drop();
    },
  };
}

/** A row as the manager writes it (ApplicationName NULL, due now unless `overrides` say otherwise). */
export function jobRow(
  jobName: string,
  args: object,
  overrides: Partial<BackgroundJobRecord> = {},
): BackgroundJobRecord {
  return jobRecord({ jobName, jobArgs: JSON.stringify(args), ...overrides });
}

/** Inserts in batches, as one enqueueMany per batch would. */
export async function insertJobs(
  store: BackgroundJobStore,
  rows: BackgroundJobRecord[],
  batch = 500,
): Promise<string[]> {
  for (let i = 0; i < rows.length; i += batch) await store.insert(rows.slice(i, i + batch));
  return rows.map((r) => r.id);
}

/** Every row still in the table, read through the store (a handful of rows at most by then). */
export async function remainingRows(database: ScaleDatabase): Promise<BackgroundJobRecord[]> {
  const q = (name: string) => database.dataSource.driver.escape(name);
  const ids = await database.dataSource.query<Array<{ Id: string }>>(
    `SELECT ${q('Id')} FROM ${q('AbpBackgroundJobs')}`,
  );
  const rows = await Promise.all(ids.map((r) => database.store.find(r.Id)));
  return rows.filter((r): r is BackgroundJobRecord => r !== undefined);
}

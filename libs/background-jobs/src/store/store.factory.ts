import type { DataSource } from 'typeorm';
import { BackgroundJobStore } from './background-job-store';
import { PostgresBackgroundJobStore } from './dialects/postgres.dialect';
import { SqliteBackgroundJobStore } from './dialects/sqlite.dialect';

/** Picks the dialect once, from the DataSource TypeORM opened, and hands it the driver's own pool. */
export function createBackgroundJobStore(dataSource: DataSource): BackgroundJobStore {
  const driver = dataSource.driver as unknown as { databaseConnection?: unknown; master?: unknown };
  switch (dataSource.options.type) {
    case 'better-sqlite3':
      return new SqliteBackgroundJobStore(driver.databaseConnection as never);
    case 'postgres':
      return new PostgresBackgroundJobStore(driver.master as never);
    default:
      throw new Error(`Background jobs have no store for the TypeORM driver "${dataSource.options.type}"`);
  }
}

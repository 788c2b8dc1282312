import type { DataSource } from 'typeorm';
import { BackgroundJobStore } from './background-job-store';
import { MssqlPool, MssqlPoolRunner } from './dialects/mssql-runner';
import { MssqlBackgroundJobStore } from './dialects/mssql.dialect';
import { MysqlBackgroundJobStore } from './dialects/mysql.dialect';
import { PostgresBackgroundJobStore } from './dialects/postgres.dialect';
import { SqliteBackgroundJobStore } from './dialects/sqlite.dialect';

/** Picks the dialect once, from the DataSource TypeORM opened, and hands it the driver's own pool. */
export function createBackgroundJobStore(dataSource: DataSource): BackgroundJobStore {
  const driver = dataSource.driver as unknown as {
    databaseConnection?: unknown;
    master?: unknown;
    pool?: { promise(): unknown };
  };
  switch (dataSource.options.type) {
    case 'better-sqlite3':
      return new SqliteBackgroundJobStore(driver.databaseConnection as never);
    case 'postgres':
      return new PostgresBackgroundJobStore(driver.master as never);
    case 'mysql':
    case 'mariadb':
      if (!driver.pool)
        throw new Error('Background jobs need a single MySQL pool; TypeORM replication is not supported');
      // TypeORM keeps mysql2's callback pool; its promise() wrapper shares the same connections.
      return new MysqlBackgroundJobStore(driver.pool.promise() as never);
    case 'mssql':
      return new MssqlBackgroundJobStore(new MssqlPoolRunner(driver.master as MssqlPool));
    default:
      throw new Error(`Background jobs have no store for the TypeORM driver "${dataSource.options.type}"`);
  }
}

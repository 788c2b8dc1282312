import type { DataSource } from 'typeorm';
import { BackgroundJobStore } from './background-job-store';
import { MssqlPool, MssqlPoolRunner } from './dialects/mssql-runner';
import { MssqlBackgroundJobStore } from './dialects/mssql.dialect';
import { MysqlBackgroundJobStore } from './dialects/mysql.dialect';
import { PostgresBackgroundJobStore } from './dialects/postgres.dialect';
import { SqliteBackgroundJobStore } from './dialects/sqlite.dialect';
import { TableNameOptions, TableNames } from './table-names';

/**
 * Picks the dialect once, from the DataSource TypeORM opened, and hands it the driver's own pool.
 * `names`: ABP's DbTablePrefix and DbSchema (see table-names.ts); a bad one throws here.
 */
export function createBackgroundJobStore(dataSource: DataSource, names: TableNameOptions = {}): BackgroundJobStore {
  const driver = dataSource.driver as unknown as {
    databaseConnection?: unknown;
    master?: unknown;
    pool?: { promise(): unknown };
  };
  switch (dataSource.options.type) {
    case 'better-sqlite3':
      return new SqliteBackgroundJobStore(
        driver.databaseConnection as never,
        undefined,
        new TableNames('sqlite', names),
      );
    case 'postgres':
      return new PostgresBackgroundJobStore(driver.master as never, undefined, new TableNames('postgres', names));
    case 'mysql':
    case 'mariadb':
      if (!driver.pool)
        throw new Error('Background jobs need a single MySQL pool; TypeORM replication is not supported');
      // TypeORM keeps mysql2's callback pool; its promise() wrapper shares the same connections.
      return new MysqlBackgroundJobStore(
        driver.pool.promise() as never,
        undefined,
        undefined,
        new TableNames('mysql', names),
      );
    case 'mssql':
      return new MssqlBackgroundJobStore(
        new MssqlPoolRunner(driver.master as MssqlPool),
        undefined,
        new TableNames('mssql', names),
      );
    default:
      throw new Error(`Background jobs have no store for the TypeORM driver "${dataSource.options.type}"`);
  }
}

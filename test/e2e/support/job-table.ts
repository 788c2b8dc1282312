import Database from 'better-sqlite3';
import { Client } from 'pg';
import { parseConnectionString } from '@app/background-jobs';
import { openStore } from '../../support/open-store';

export interface JobRow {
  JobName: string;
  JobArgs: string;
  ExtraProperties: string;
}

/**
 * Reads the AbpBackgroundJobs table directly (not through the app or the store's methods), so a
 * test sees what really was written. Takes the connection string as the apps were given it.
 */
export async function readJobRows(connectionString: string): Promise<JobRow[]> {
  const sql = 'SELECT "JobName", "JobArgs", "ExtraProperties" FROM "AbpBackgroundJobs"';
  if (/^postgres(ql)?:\/\//i.test(connectionString)) {
    const client = new Client({ connectionString });
    await client.connect();
    try {
      return (await client.query<JobRow>(sql)).rows;
    } finally {
      await client.end();
    }
  }
  // The apps' own reading of the string tells SQLite's "Data Source=<file>" from SQL Server's.
  const connection = parseConnectionString(connectionString);
  if (connection.provider === 'sqlite') {
    const db = new Database(connection.typeorm.database as string, { readonly: true, fileMustExist: true });
    try {
      return db.prepare(sql).all() as JobRow[];
    } finally {
      db.close();
    }
  }
  // MariaDB/MySQL and SQL Server: the connection the apps open (TypeORM's DataSource), none of the store's queries.
  const { dataSource, close } = await openStore(connectionString);
  try {
    const q = (name: string) => dataSource.driver.escape(name);
    return await dataSource.query<JobRow[]>(
      `SELECT ${q('JobName')}, ${q('JobArgs')}, ${q('ExtraProperties')} FROM ${q('AbpBackgroundJobs')}`,
    );
  } finally {
    await close();
  }
}

export async function countJobRows(connectionString: string): Promise<number> {
  return (await readJobRows(connectionString)).length;
}

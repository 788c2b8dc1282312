import Database from 'better-sqlite3';
import { Client } from 'pg';

export interface JobRow {
  JobName: string;
  JobArgs: string;
}

/**
 * Reads the AbpBackgroundJobs table directly (not through the app or the store), so a test sees
 * what really was written. Takes the connection string as the apps were given it.
 */
export async function readJobRows(connectionString: string): Promise<JobRow[]> {
  const sql = 'SELECT "JobName", "JobArgs" FROM "AbpBackgroundJobs"';
  if (/^postgres(ql)?:\/\//i.test(connectionString)) {
    const client = new Client({ connectionString });
    await client.connect();
    try {
      return (await client.query<JobRow>(sql)).rows;
    } finally {
      await client.end();
    }
  }
  const file = /^Data Source=(.+)$/i.exec(connectionString)?.[1] ?? connectionString;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all() as JobRow[];
  } finally {
    db.close();
  }
}

export async function countJobRows(connectionString: string): Promise<number> {
  return (await readJobRows(connectionString)).length;
}

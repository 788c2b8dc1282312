import { DataSource } from 'typeorm';
import { parseConnectionString } from '@app/background-jobs';
import { TestDatabase, uniqueName } from './databases';

/**
 * SQL Server is not installed on these machines: tests reach one only through
 * MSSQL_CONNECTION_STRING (any database on it, e.g. master; the login needs CREATE DATABASE).
 */
export const MSSQL_CONNECTION_STRING = process.env.MSSQL_CONNECTION_STRING?.trim() || undefined;

/**
 * A fresh database with READ_COMMITTED_SNAPSHOT on, as Azure SQL has it: the harder case for
 * claims, whose READPAST must still take real locks (READCOMMITTEDLOCK).
 */
export async function createMssqlDatabase(): Promise<TestDatabase> {
  if (!MSSQL_CONNECTION_STRING) throw new Error('MSSQL_CONNECTION_STRING is not set');
  const name = uniqueName('bjtest');
  await withMssqlAdmin(async (admin) => {
    await admin.query(`CREATE DATABASE [${name}]`);
    await admin.query(`ALTER DATABASE [${name}] SET READ_COMMITTED_SNAPSHOT ON WITH ROLLBACK IMMEDIATE`);
  });
  return {
    name,
    connectionString: withDatabase(MSSQL_CONNECTION_STRING, name),
    drop: () =>
      withMssqlAdmin(async (admin) => {
        await admin.query(
          `IF DB_ID(N'${name}') IS NOT NULL ALTER DATABASE [${name}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE`,
        );
        await admin.query(`DROP DATABASE IF EXISTS [${name}]`);
      }),
  };
}

/** The same server and login, pointed at another database. */
export function withDatabase(connectionString: string, database: string): string {
  if (/^(mssql|sqlserver):\/\//i.test(connectionString)) {
    const url = new URL(connectionString);
    const instance = url.pathname.split('/').filter(Boolean);
    url.pathname = instance.length === 2 ? `/${instance[0]}/${database}` : `/${database}`;
    return url.toString();
  }
  const others = connectionString
    .split(';')
    .filter((part) => part.trim() !== '' && !/^\s*(database|initial catalog)\s*=/i.test(part));
  return [...others, `Database=${database}`].join(';');
}

async function withMssqlAdmin(work: (admin: DataSource) => Promise<void>): Promise<void> {
  const admin = new DataSource(parseConnectionString(withDatabase(MSSQL_CONNECTION_STRING!, 'master')).typeorm);
  await admin.initialize();
  try {
    await work(admin);
  } finally {
    await admin.destroy();
  }
}

import { createConnection } from 'mysql2/promise';
import { TestDatabase, uniqueName } from './databases';

/** The machine's MariaDB/MySQL server, as an account that may create databases (no database in the path). */
export const MYSQL_ADMIN_URL = process.env.MYSQL_ADMIN_URL ?? 'mysql://root@127.0.0.1:3306';

export async function createMysqlDatabase(): Promise<TestDatabase> {
  const name = uniqueName('bjtest');
  await withMysqlAdmin(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  const url = new URL(MYSQL_ADMIN_URL);
  url.pathname = `/${name}`;
  return { name, connectionString: url.toString(), drop: () => withMysqlAdmin(`DROP DATABASE IF EXISTS \`${name}\``) };
}

async function withMysqlAdmin(sql: string): Promise<void> {
  const connection = await createConnection({ uri: MYSQL_ADMIN_URL });
  try {
    await connection.query(sql);
  } finally {
    await connection.end();
  }
}

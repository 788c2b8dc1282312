import { createConnection } from 'mysql2/promise';
import { Client } from 'pg';
import type { DatabaseProvider } from '@app/background-jobs/connection/database-provider';
import { PG_ADMIN_URL, TestDatabase, uniqueName } from './databases';
import { MYSQL_ADMIN_URL } from './mysql-database';

/**
 * A database login that may only read and write rows (SELECT, INSERT, UPDATE, DELETE), as a DBA
 * gives an app that must not change the schema: on PostgreSQL a role that owns nothing (only a
 * table's owner may create its indexes), on MySQL/MariaDB a user without CREATE, ALTER, INDEX or
 * DROP. Made on the machine's servers by their admin accounts; `drop()` removes it.
 */
export interface LimitedLogin {
  /** `database`'s connection string, as this login. */
  connectionString: string;
  /** Grants row access to the tables that exist now (PostgreSQL grants per table; MySQL's cover the database). */
  grantOnTables(): Promise<void>;
  drop(): Promise<void>;
}

export const LIMITED_LOGIN_DIALECTS: DatabaseProvider[] = ['postgres', 'mysql'];

export async function createLimitedLogin(dialect: DatabaseProvider, database: TestDatabase): Promise<LimitedLogin> {
  const name = uniqueName('bjapp');
  const url = new URL(database.connectionString);
  url.username = name;
  url.password = '';
  if (dialect === 'postgres') {
    await withPg(PG_ADMIN_URL, (c) => c.query(`CREATE ROLE "${name}" LOGIN`));
    const grantOnTables = () =>
      withPg(database.connectionString, (c) =>
        c.query(
          `GRANT USAGE ON SCHEMA public TO "${name}"; GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "${name}"`,
        ),
      );
    await grantOnTables();
    return {
      connectionString: url.toString(),
      grantOnTables,
      // Its grants go with the database; drop that first.
      drop: () => withPg(PG_ADMIN_URL, (c) => c.query(`DROP ROLE IF EXISTS "${name}"`)),
    };
  }
  if (dialect === 'mysql') {
    await withMysql(`CREATE USER '${name}'@'%'`);
    await withMysql(`GRANT SELECT, INSERT, UPDATE, DELETE ON \`${database.name}\`.* TO '${name}'@'%'`);
    return {
      connectionString: url.toString(),
      grantOnTables: async () => undefined,
      drop: () => withMysql(`DROP USER IF EXISTS '${name}'@'%'`),
    };
  }
  throw new Error(`No limited login for ${dialect} here`);
}

async function withPg(connectionString: string, work: (client: Client) => Promise<unknown>): Promise<void> {
  const client = new Client({ connectionString });
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.end();
  }
}

async function withMysql(sql: string): Promise<void> {
  const connection = await createConnection({ uri: MYSQL_ADMIN_URL });
  try {
    await connection.query(sql);
  } finally {
    await connection.end();
  }
}

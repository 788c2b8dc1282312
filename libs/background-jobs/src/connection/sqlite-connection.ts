import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { backgroundJobRecordSchema } from '../entities/background-job-record.entity';
import type { DatabaseConnection } from './database-connection';
import { parseKeyValues } from './key-values';

export const DEFAULT_SQLITE_FILE = 'data/background-jobs.db';

/**
 * SQLite, from `Data Source=<file>` (or `DataSource`, `Filename`), or the default file for an empty
 * string. The path resolves against the working directory and its folder is created.
 */
export function sqliteConnection(text: string): DatabaseConnection {
  const kv = text === '' ? {} : parseKeyValues(text);
  const file = kv['data source'] ?? kv['datasource'] ?? kv['filename'] ?? DEFAULT_SQLITE_FILE;
  const database = file === ':memory:' ? file : resolve(file);
  if (database !== ':memory:') mkdirSync(dirname(database), { recursive: true });
  return {
    provider: 'sqlite',
    description: `SQLite ${database}`,
    typeorm: {
      type: 'better-sqlite3',
      database,
      enableWAL: true,
      timeout: 15_000, // busy timeout: the web app and the workers share the file
      entities: [backgroundJobRecordSchema('sqlite')],
      synchronize: false,
    },
  };
}

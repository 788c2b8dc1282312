import { DataSource } from 'typeorm';
import {
  BackgroundJobStore,
  createBackgroundJobStore,
  MemoryBackgroundJobStore,
  parseConnectionString,
} from '@app/background-jobs';
import type { TableNameOptions } from '@app/background-jobs/store/table-names';
import type { TestDatabase } from './databases';

type OpenedStore = { store: BackgroundJobStore; dataSource: DataSource; close: () => Promise<void> };

/**
 * Opens the store the apps would open for this connection string (TypeORM DataSource + dialect);
 * `names`: the options tablePrefix and schema.
 */
export async function openStore(
  connectionString: string,
  provider?: string,
  names?: TableNameOptions,
): Promise<OpenedStore> {
  if (connectionString.startsWith(MEMORY_PREFIX)) return openMemoryStore(connectionString);
  const connection = parseConnectionString(connectionString, provider);
  const dataSource = new DataSource(connection.typeorm);
  await dataSource.initialize();
  const store = createBackgroundJobStore(dataSource, names);
  return { store, dataSource, close: () => dataSource.destroy() };
}

/**
 * In-memory "databases" for the store contract: every open of one name gets the same store, as
 * every connection to one database sees the same rows. It has no DataSource (no SQL to run).
 */
const MEMORY_PREFIX = 'memory:';
const memoryStores = new Map<string, MemoryBackgroundJobStore>();
let memoryDatabases = 0;

export async function createMemoryDatabase(): Promise<TestDatabase> {
  const name = `${MEMORY_PREFIX}${++memoryDatabases}`;
  memoryStores.set(name, new MemoryBackgroundJobStore());
  return { name, connectionString: name, drop: async () => void memoryStores.delete(name) };
}

function openMemoryStore(name: string): OpenedStore {
  const store = memoryStores.get(name);
  if (!store) throw new Error(`No in-memory database named ${name}`);
  return {
    store,
    close: async () => undefined,
    get dataSource(): DataSource {
      throw new Error('The in-memory store has no DataSource');
    },
  };
}

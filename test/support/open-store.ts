import { DataSource } from 'typeorm';
import { BackgroundJobStore, createBackgroundJobStore, parseConnectionString } from '@app/background-jobs';

/** Opens the store the apps would open for this connection string (TypeORM DataSource + dialect). */
export async function openStore(connectionString: string, provider?: string): Promise<{ store: BackgroundJobStore; dataSource: DataSource; close(): Promise<void> }> {
  const connection = parseConnectionString(connectionString, provider);
  const dataSource = new DataSource(connection.typeorm);
  await dataSource.initialize();
  const store = createBackgroundJobStore(dataSource);
  return { store, dataSource, close: () => dataSource.destroy() };
}

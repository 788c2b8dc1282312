import type { DataSourceOptions } from 'typeorm';
import type { DatabaseProvider } from './database-provider';

/** What a connection string resolves to: the database, TypeORM's options for it, and a loggable name. */
export interface DatabaseConnection {
  provider: DatabaseProvider;
  typeorm: DataSourceOptions;
  /** Where it points, without secrets, for start-up logs. */
  description: string;
}

/** The setting every connection error names. */
export const CONNECTION_STRING_SETTING = 'ConnectionStrings__AbpBackgroundJobs';

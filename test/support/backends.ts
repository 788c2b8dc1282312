import { createPostgresDatabase, createSqliteDatabase, TestDatabase } from './databases';

/**
 * The databases every store-level suite runs against, unchanged. A backend whose server is
 * optional here (SQL Server) has `available: false` and a reason, and the suite says it skipped.
 */
export interface Backend {
  name: string;
  provider?: string;
  available: boolean;
  skipReason?: string;
  create(): Promise<TestDatabase>;
}

export const backends: Backend[] = [
  { name: 'sqlite', available: true, create: createSqliteDatabase },
  { name: 'postgres', available: true, create: createPostgresDatabase },
];

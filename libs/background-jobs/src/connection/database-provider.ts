/**
 * The one name of each database, used everywhere: connection parsing, `store.dialect`, logs,
 * /health, and the test backends. The setting `DatabaseProvider` accepts ABP's spellings
 * (`SqlServer`, `PostgreSql`, `MySql`, `Sqlite`) and maps them onto these.
 */
export type DatabaseProvider = 'sqlite' | 'postgres' | 'mysql' | 'sqlserver';

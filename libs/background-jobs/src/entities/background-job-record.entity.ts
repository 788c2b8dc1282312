import { EntitySchema, EntitySchemaColumnOptions, ValueTransformer } from 'typeorm';
import type { DatabaseProvider } from '../connection/database-provider';
import { TableNameOptions, TableNames } from '../store/table-names';
import { fromUtcText, toUtcText } from '../store/sql-time';

/**
 * ABP's `BackgroundJobRecord`, a row of its table `AbpBackgroundJobs`, for an application that
 * reads the table with TypeORM (an admin page, a report): `dataSource.getRepository(BackgroundJobRecordEntity)`.
 * The store does not use it; the table is made by the store's migration.
 */
export class BackgroundJobRecordEntity {
  id!: string;
  applicationName!: string | null;
  jobName!: string;
  jobArgs!: string;
  tryCount!: number;
  creationTime!: Date;
  nextTryTime!: Date;
  lastTryTime!: Date | null;
  isAbandoned!: boolean;
  priority!: number;
  completionTime!: Date | null;
  extraProperties!: string;
  concurrencyStamp!: string;
}

type Column = EntitySchemaColumnOptions;

/** The column types of one database, as ABP's EF Core provider for it makes the table. */
interface ColumnTypes {
  id: Column;
  text: (length: number) => Column;
  /** JobArgs: at most 1,048,576 characters (ABP's MaxJobArgsLength). */
  jobArgs: Column;
  /** ExtraProperties: no maximum length. */
  unboundedText: Column;
  tryCount: Column;
  time: Column;
  boolean: Column;
  priority: Column;
  /** ABP's own index, under the name the dialect's migration gives it. */
  abpIndexName: string;
}

const ABP_INDEX = 'IX_AbpBackgroundJobs_ApplicationName_CompletionTime_IsAbandoned_NextTryTime';

/** SQLite keeps times as UTC text and booleans as 0/1, as EF Core's SQLite provider writes them. */
const utcText: ValueTransformer = {
  to: (value: Date | null | undefined) => (value instanceof Date ? toUtcText(value) : value),
  from: (value: string | null) => fromUtcText(value),
};
const zeroOrOne: ValueTransformer = {
  to: (value: boolean | null | undefined) => (typeof value === 'boolean' ? Number(value) : value),
  from: (value: number | null) => (value === null ? null : Number(value) === 1),
};

/**
 * PostgreSQL's timestamp without time zone holds UTC here. TypeORM would hand pg a Date, which pg
 * writes in the process's time zone; pg writes an object with toPostgres() as the text it returns,
 * so times go as UTC text, in writes and in find conditions alike. Read back, they are the UTC
 * Dates PG_UTC_TYPES parses (or UTC text where a DataSource lacks it).
 */
const pgUtcTimestamp: ValueTransformer = {
  to: (value: Date | null | undefined) => (value instanceof Date ? { toPostgres: () => toUtcText(value) } : value),
  from: (value: Date | string | null) => (typeof value === 'string' ? fromUtcText(value) : value),
};

const COLUMN_TYPES: Record<DatabaseProvider, ColumnTypes> = {
  // ABP's SqlServer provider.
  sqlserver: {
    id: { type: 'uniqueidentifier' },
    text: (length) => ({ type: 'nvarchar', length }),
    jobArgs: { type: 'nvarchar', length: 'MAX' },
    unboundedText: { type: 'nvarchar', length: 'MAX' },
    tryCount: { type: 'smallint' },
    time: { type: 'datetime2' },
    boolean: { type: 'bit' },
    priority: { type: 'tinyint' },
    abpIndexName: ABP_INDEX,
  },
  // Npgsql: no tinyint, so Priority is a smallint; identifiers cut at 63 characters with "~".
  postgres: {
    id: { type: 'uuid' },
    text: (length) => ({ type: 'character varying', length }),
    jobArgs: { type: 'character varying', length: 1_048_576 },
    unboundedText: { type: 'text' },
    tryCount: { type: 'smallint' },
    time: { type: 'timestamp without time zone', transformer: pgUtcTimestamp },
    boolean: { type: 'boolean' },
    priority: { type: 'smallint' },
    abpIndexName: 'IX_AbpBackgroundJobs_ApplicationName_CompletionTime_IsAbandone~',
  },
  // Pomelo: Guids as char(36) in ASCII, bool as tinyint(1), byte as tinyint unsigned.
  mysql: {
    id: { type: 'char', length: 36, collation: 'ascii_general_ci' },
    text: (length) => ({ type: 'varchar', length }),
    jobArgs: { type: 'longtext' },
    unboundedText: { type: 'longtext' },
    tryCount: { type: 'smallint' },
    time: { type: 'datetime', precision: 6 },
    boolean: { type: 'boolean' },
    priority: { type: 'tinyint', unsigned: true },
    abpIndexName: 'IX_AbpBackgroundJobs_ApplicationName_CompletionTime_IsAbandoned~',
  },
  // EF Core's SQLite provider: TEXT and INTEGER only.
  sqlite: {
    id: { type: 'text' },
    text: () => ({ type: 'text' }),
    jobArgs: { type: 'text' },
    unboundedText: { type: 'text' },
    tryCount: { type: 'integer' },
    time: { type: 'text', transformer: utcText },
    boolean: { type: 'integer', transformer: zeroOrOne },
    priority: { type: 'integer' },
    abpIndexName: ABP_INDEX,
  },
};

function schemaFor(provider: DatabaseProvider, names: TableNames): EntitySchema<BackgroundJobRecordEntity> {
  const t = COLUMN_TYPES[provider];
  return new EntitySchema<BackgroundJobRecordEntity>({
    name: 'BackgroundJobRecordEntity',
    target: BackgroundJobRecordEntity,
    tableName: names.table,
    ...(names.schema ? { schema: names.schema } : {}),
    synchronize: false,
    columns: {
      id: { ...t.id, name: 'Id', primary: true, primaryKeyConstraintName: `PK_${names.table}` },
      applicationName: { ...t.text(96), name: 'ApplicationName', nullable: true },
      jobName: { ...t.text(128), name: 'JobName' },
      jobArgs: { ...t.jobArgs, name: 'JobArgs' },
      tryCount: { ...t.tryCount, name: 'TryCount', default: 0 },
      creationTime: { ...t.time, name: 'CreationTime' },
      nextTryTime: { ...t.time, name: 'NextTryTime' },
      lastTryTime: { ...t.time, name: 'LastTryTime', nullable: true },
      isAbandoned: { ...t.boolean, name: 'IsAbandoned', default: false },
      priority: { ...t.priority, name: 'Priority', default: 15 },
      completionTime: { ...t.time, name: 'CompletionTime', nullable: true },
      extraProperties: { ...t.unboundedText, name: 'ExtraProperties' },
      concurrencyStamp: { ...t.text(40), name: 'ConcurrencyStamp' },
    },
    indices: [
      { name: names.sql(t.abpIndexName), columns: ['applicationName', 'completionTime', 'isAbandoned', 'nextTryTime'] },
    ],
  });
}

const schemas = new Map<string, EntitySchema<BackgroundJobRecordEntity>>();

/**
 * The TypeORM mapping of BackgroundJobRecordEntity for one database, with ABP's column types there
 * (uniqueidentifier / uuid / char(36) ids, datetime2 / timestamp / datetime(6) times, tinyint or
 * smallint priorities...), names, nullability, lengths and defaults, so TypeORM's idea of the table
 * is the table ABP's migrations make: on SQL Server TypeORM sends each value with its column's type
 * (a datetime parameter against a datetime2 column would turn seeks into scans), and a mapping
 * copied into an app's own migrations makes the same table. `synchronize: false`: TypeORM's schema
 * sync and migration generation leave the table alone (they would drop the store's own index).
 * parseConnectionString() puts it in `entities`; an app with its own TypeORM options lists
 * `backgroundJobRecordSchema('<database>')` there instead of the class. `names`: ABP's DbTablePrefix
 * and DbSchema when the app changes them (the store's options tablePrefix and schema).
 */
export function backgroundJobRecordSchema(
  provider: DatabaseProvider,
  names: TableNameOptions = {},
): EntitySchema<BackgroundJobRecordEntity> {
  const tableNames = new TableNames(provider === 'sqlserver' ? 'mssql' : provider, names);
  const key = `${provider}/${tableNames.schema}/${tableNames.tablePrefix}`;
  let schema = schemas.get(key);
  if (!schema) schemas.set(key, (schema = schemaFor(provider, tableNames)));
  return schema;
}

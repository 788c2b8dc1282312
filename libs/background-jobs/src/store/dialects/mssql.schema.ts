import { ABP_TABLE_SHAPE, OPTIONAL_ABP_COLUMNS, perShape, shapeOf, TableShape } from '../table-shape';
import { MssqlIndex, mssqlStateIndexes } from './mssql.admin';

/**
 * AbpBackgroundJobs on SQL Server: ABP's table where there is none, our indexes on it, for the
 * shape it has (see table-shape.ts). A migration is one transaction of two batches: the first
 * takes the applock and reads the catalog (MIGRATION_CATALOG), the second (migrationBatch) holds
 * only the DDL that the catalog says is missing or out of date, plus our own tables behind IF
 * guards, so a login that may only read and write rows migrates a table that is ready.
 */

/** How long a migration waits for another process's migration to finish (sp_getapplock's @LockTimeout). */
export const MIGRATION_LOCK_TIMEOUT_MS = 60_000;

/** ABP 10.6's table, as its EF Core migrations make it. */
export const CREATE_ABP_TABLE = `CREATE TABLE [AbpBackgroundJobs] (
    [Id] uniqueidentifier NOT NULL,
    [ApplicationName] nvarchar(96) NULL,
    [JobName] nvarchar(128) NOT NULL,
    [JobArgs] nvarchar(max) NOT NULL,
    [TryCount] smallint NOT NULL DEFAULT CAST(0 AS smallint),
    [CreationTime] datetime2 NOT NULL,
    [NextTryTime] datetime2 NOT NULL,
    [LastTryTime] datetime2 NULL,
    [IsAbandoned] bit NOT NULL DEFAULT CAST(0 AS bit),
    [Priority] tinyint NOT NULL DEFAULT CAST(15 AS tinyint),
    [CompletionTime] datetime2 NULL,
    [ExtraProperties] nvarchar(max) NOT NULL,
    [ConcurrencyStamp] nvarchar(40) NOT NULL,
    CONSTRAINT [PK_AbpBackgroundJobs] PRIMARY KEY ([Id])
  );`;
/** ABP 10.6's index (SQL Server's names are not cut). */
export const CREATE_ABP_INDEX =
  'CREATE INDEX [IX_AbpBackgroundJobs_ApplicationName_CompletionTime_IsAbandoned_NextTryTime] ON [AbpBackgroundJobs] ([ApplicationName], [CompletionTime], [IsAbandoned], [NextTryTime]);';

export const DEQUEUE_INDEX_NAME = 'IX_AbpBackgroundJobs_Dequeue';

/**
 * Ours, beside ABP's: the claim's order (Priority DESC, TryCount, NextTryTime) within one job name,
 * so a claim seeks each of its names' rows in dequeue order and never reads another name's rows.
 */
export const mssqlDequeueIndex = perShape((shape: TableShape): MssqlIndex => ({
  name: DEQUEUE_INDEX_NAME,
  keys: [
    ...(shape.applicationName ? ['ApplicationName'] : []),
    ...(shape.completionTime ? ['CompletionTime'] : []),
    'IsAbandoned',
    'JobName',
    'Priority DESC',
    'TryCount',
    'NextTryTime',
  ],
  include: ['ConcurrencyStamp'],
}));

/** Our indexes on ABP's table, for its shape: none names a column the table lacks. */
export const mssqlOwnIndexes = perShape((shape: TableShape) => [mssqlDequeueIndex(shape), ...mssqlStateIndexes(shape)]);

/** The table's columns, for the shape of a table adopted without migrating. */
export const READ_SHAPE = `SELECT [name] FROM sys.columns WHERE [object_id] = OBJECT_ID(N'[AbpBackgroundJobs]', N'U');`;

/** A list of an index's columns from the catalog, comma-separated (a DESC key as `Name DESC`). */
const indexColumns = (included: 0 | 1) => `STUFF((
    SELECT N',' + [c].[name]${included ? '' : " + CASE WHEN [ic].[is_descending_key] = 1 THEN N' DESC' ELSE N'' END"}
    FROM sys.index_columns AS [ic]
    INNER JOIN sys.columns AS [c] ON [c].[object_id] = [ic].[object_id] AND [c].[column_id] = [ic].[column_id]
    WHERE [ic].[object_id] = [i].[object_id] AND [ic].[index_id] = [i].[index_id] AND [ic].[is_included_column] = ${included}
    ORDER BY ${included ? '[c].[name]' : '[ic].[key_ordinal]'}
    FOR XML PATH(N''), TYPE).value(N'.', N'nvarchar(max)'), 1, 1, N'')`;

/**
 * The migration's first batch, in its transaction: the compatibility check, the applock (owned by
 * the transaction, so the COMMIT releases it) that serialises concurrent migrations across
 * processes, and the catalog: the table's columns and its nonclustered indexes.
 */
export const MIGRATION_CATALOG = `SET XACT_ABORT ON;
IF (SELECT [compatibility_level] FROM sys.databases WHERE [database_id] = DB_ID()) < 130
  THROW 50001, N'AbpBackgroundJobs needs database compatibility level 130 (SQL Server 2016) or higher for OPENJSON. Run: ALTER DATABASE CURRENT SET COMPATIBILITY_LEVEL = 130', 1;
DECLARE @lock int;
EXEC @lock = sp_getapplock @Resource = N'AbpBackgroundJobs.migrate', @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = ${MIGRATION_LOCK_TIMEOUT_MS};
IF @lock < 0
  THROW 50002, N'Timed out after ${MIGRATION_LOCK_TIMEOUT_MS / 1000} s waiting for another process to finish migrating AbpBackgroundJobs', 1;
SELECT N'column' AS [kind], [c].[name] AS [name], NULL AS [keys], NULL AS [included], NULL AS [filter]
FROM sys.columns AS [c] WHERE [c].[object_id] = OBJECT_ID(N'[AbpBackgroundJobs]', N'U')
UNION ALL
SELECT N'index', [i].[name], ${indexColumns(0)}, ${indexColumns(1)}, [i].[filter_definition]
FROM sys.indexes AS [i] WHERE [i].[object_id] = OBJECT_ID(N'[AbpBackgroundJobs]', N'U') AND [i].[type] = 2;`;

/** A nonclustered index as the catalog describes it. */
export interface CatalogIndex {
  name: string;
  keys: string;
  included: string | null;
  filter: string | null;
}

/** What MIGRATION_CATALOG found: the table's shape (undefined: no table) and its indexes by name. */
export function readMigrationCatalog(rows: Array<Record<string, unknown>>): {
  shape: TableShape | undefined;
  indexes: Map<string, CatalogIndex>;
} {
  const columns = rows.filter((r) => r.kind === 'column').map((r) => r.name as string);
  const indexes = new Map(
    rows
      .filter((r) => r.kind === 'index')
      .map((r) => [
        r.name as string,
        {
          name: r.name as string,
          keys: (r.keys as string | null) ?? '',
          included: r.included as string | null,
          filter: r.filter as string | null,
        },
      ]),
  );
  return { shape: columns.length === 0 ? undefined : shapeOf(columns), indexes };
}

/** The CREATE INDEX of one of ours (run through EXEC: the batch compiles on a table that lacks its columns). */
export function createIndex(index: MssqlIndex, rebuild = false): string {
  const keys = index.keys.map((k) => k.replace(/^(\w+)/, '[$1]')).join(', ');
  const include = index.include.length ? ` INCLUDE (${index.include.map((c) => `[${c}]`).join(', ')})` : '';
  const where = index.where ? ` WHERE ${index.where}` : '';
  const ddl = `CREATE INDEX [${index.name}] ON [AbpBackgroundJobs] (${keys})${include}${where}${rebuild ? ' WITH (DROP_EXISTING = ON)' : ''}`;
  return `EXEC(N'${ddl.replace(/'/g, "''")}');`;
}

/**
 * An index of ours made for another table than this one: other key or included columns, or a
 * filter that does not name the same of ABP's later columns (made before ABP's migration gave the
 * table one). SQL Server rewrites a filter in its own form, so filters are compared by the
 * optional columns they name.
 */
function isStale(existing: CatalogIndex, index: MssqlIndex): boolean {
  const sorted = (columns: string[]) => [...columns].sort().join(',');
  return (
    existing.keys !== index.keys.join(',') ||
    sorted((existing.included ?? '').split(',').filter(Boolean)) !== sorted(index.include) ||
    OPTIONAL_ABP_COLUMNS.some(
      (column) => (existing.filter ?? '').includes(`[${column}]`) !== (index.where ?? '').includes(`[${column}]`),
    )
  );
}

/**
 * The migration's second batch: ABP's table and index when there was no table, the indexes of ours
 * the catalog lacks or holds out of date (rebuilt in place), then `ownObjects` (our tables beside
 * ABP's, each behind its own IF guard). `steps` says what it does, for an error.
 */
export function migrationBatch(
  found: ReturnType<typeof readMigrationCatalog>,
  ownObjects: string,
): { shape: TableShape; batch: string; steps: string[] } {
  const shape = found.shape ?? ABP_TABLE_SHAPE;
  const statements: string[] = [];
  const steps: string[] = [];
  if (!found.shape) {
    statements.push(CREATE_ABP_TABLE, CREATE_ABP_INDEX);
    steps.push("creating the table AbpBackgroundJobs and ABP's index on it");
  }
  for (const index of mssqlOwnIndexes(shape)) {
    const existing = found.indexes.get(index.name);
    if (existing && !isStale(existing, index)) continue;
    statements.push(createIndex(index, existing !== undefined));
    steps.push(`${existing ? 'making again' : 'creating'} our index ${index.name} on AbpBackgroundJobs`);
  }
  statements.push(ownObjects);
  steps.push('creating our tables beside AbpBackgroundJobs where missing');
  return { shape, batch: statements.join('\n'), steps };
}

import type { DataSource } from 'typeorm';
import type { DatabaseProvider } from '@app/background-jobs/connection/database-provider';

/** A table's columns and indexes as the database's catalog shows them. */
export interface TableCatalog {
  columns: string[];
  /** Index name -> its definition as the catalog gives it (the CREATE INDEX, or the column list on MySQL and SQL Server). */
  indexes: Map<string, string>;
}

/** What the catalog says of `table` (none of the store's code is used), through a DataSource on its database. */
export async function readTableCatalog(
  dataSource: DataSource,
  dialect: DatabaseProvider,
  table = 'AbpBackgroundJobs',
): Promise<TableCatalog> {
  const rows = (sql: string, values: unknown[] = []) => dataSource.query<Array<Record<string, unknown>>>(sql, values);
  switch (dialect) {
    case 'postgres':
      return {
        columns: (
          await rows(
            `SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`,
            [table],
          )
        ).map((r) => r.name as string),
        indexes: new Map(
          (
            await rows(
              `SELECT indexname AS name, indexdef AS definition FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1`,
              [table],
            )
          ).map((r) => [r.name as string, r.definition as string]),
        ),
      };
    case 'mysql':
      return {
        columns: (
          await rows(
            `SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
            [table],
          )
        ).map((r) => r.name as string),
        indexes: new Map(
          (
            await rows(
              `SELECT INDEX_NAME AS name, GROUP_CONCAT(CONCAT('\`', COLUMN_NAME, '\`') ORDER BY SEQ_IN_INDEX SEPARATOR ', ') AS definition
               FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? GROUP BY INDEX_NAME`,
              [table],
            )
          ).map((r) => [r.name as string, r.definition as string]),
        ),
      };
    case 'sqlite':
      return {
        columns: (await rows(`SELECT name FROM pragma_table_info(?)`, [table])).map((r) => r.name as string),
        indexes: new Map(
          (await rows(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?`, [table])).map(
            (r) => [r.name as string, (r.sql as string | null) ?? '(primary key)'],
          ),
        ),
      };
    case 'sqlserver':
      return {
        columns: (
          await rows(`SELECT [name] FROM sys.columns WHERE [object_id] = OBJECT_ID(@0) ORDER BY [column_id]`, [table])
        ).map((r) => r.name as string),
        indexes: new Map(
          (
            await rows(
              `SELECT [i].[name], STUFF((SELECT N', [' + [c].[name] + N']' FROM sys.index_columns AS [ic]
                 INNER JOIN sys.columns AS [c] ON [c].[object_id] = [ic].[object_id] AND [c].[column_id] = [ic].[column_id]
                 WHERE [ic].[object_id] = [i].[object_id] AND [ic].[index_id] = [i].[index_id]
                 FOR XML PATH(N'')), 1, 2, N'') + ISNULL(N' WHERE ' + [i].[filter_definition], N'') AS [definition]
               FROM sys.indexes AS [i] WHERE [i].[object_id] = OBJECT_ID(@0) AND [i].[name] IS NOT NULL`,
              [table],
            )
          ).map((r) => [r.name as string, r.definition as string]),
        ),
      };
  }
}

/** A column's name as it stands quoted in the dialect's index definitions. */
export function quoted(dialect: DatabaseProvider, column: string): string {
  return dialect === 'mysql' ? `\`${column}\`` : dialect === 'sqlserver' ? `[${column}]` : `"${column}"`;
}

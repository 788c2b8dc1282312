import type { Database } from 'better-sqlite3';
import { ABP_TABLE_SHAPE, perShape, shapeOf, TableShape } from '../table-shape';
import { TableNames } from '../table-names';
import { migrationStepError } from './migration-errors';
import { sqliteLiveRows, sqliteStateIndexes } from './sqlite.admin';

/**
 * AbpBackgroundJobs on SQLite: ABP's table where there is none, our indexes on it, for the shape it
 * has (see table-shape.ts). An index of ours whose definition is not the one for this shape (other
 * columns or rows, or made before ABP's migration gave the table a column) is made again.
 */

/** ABP 10.6's table, as EF Core's SQLite provider makes it. */
export const CREATE_ABP_TABLE = `CREATE TABLE "AbpBackgroundJobs" (
  "Id" TEXT NOT NULL CONSTRAINT "PK_AbpBackgroundJobs" PRIMARY KEY,
  "ApplicationName" TEXT NULL,
  "JobName" TEXT NOT NULL,
  "JobArgs" TEXT NOT NULL,
  "TryCount" INTEGER NOT NULL DEFAULT 0,
  "CreationTime" TEXT NOT NULL,
  "NextTryTime" TEXT NOT NULL,
  "LastTryTime" TEXT NULL,
  "IsAbandoned" INTEGER NOT NULL DEFAULT 0,
  "Priority" INTEGER NOT NULL DEFAULT 15,
  "CompletionTime" TEXT NULL,
  "ExtraProperties" TEXT NOT NULL,
  "ConcurrencyStamp" TEXT NOT NULL
)`;
/** ABP 10.6's index (SQLite's names are not cut). */
export const CREATE_ABP_INDEX = `CREATE INDEX "IX_AbpBackgroundJobs_ApplicationName_CompletionTime_IsAbandoned_NextTryTime"
  ON "AbpBackgroundJobs" ("ApplicationName", "CompletionTime", "IsAbandoned", "NextTryTime")`;

/** An index of ours on ABP's table, as the CREATE INDEX that makes it (SQLite keeps that text in sqlite_master). */
export interface SqliteIndex {
  name: string;
  create: string;
}

export const SQLITE_DEQUEUE_INDEX = 'IX_AbpBackgroundJobs_Dequeue';

/**
 * Ours, beside ABP's: claims read due rows of their application in dequeue order instead of
 * sorting every waiting row; only live rows are in it. The same columns as on the other databases.
 */
export const sqliteDequeueIndex = perShape((shape: TableShape): SqliteIndex => ({
  name: SQLITE_DEQUEUE_INDEX,
  create: `CREATE INDEX "${SQLITE_DEQUEUE_INDEX}" ON "AbpBackgroundJobs" (${shape.applicationName ? '"ApplicationName", ' : ''}"Priority" DESC, "TryCount", "NextTryTime") WHERE ${sqliteLiveRows(shape)}`,
}));

/** Our indexes on ABP's table, for its shape: none names a column the table lacks. */
export const sqliteOwnIndexes = perShape((shape: TableShape) => [
  sqliteDequeueIndex(shape),
  ...sqliteStateIndexes(shape),
]);

type Row = Record<string, unknown>;

/** The table's shape from the catalog; undefined when there is no table. */
export function readSqliteShape(db: Database): TableShape | undefined {
  const columns = (db.prepare('PRAGMA table_info("AbpBackgroundJobs")').all() as Row[]).map((c) => c.name as string);
  return columns.length === 0 ? undefined : shapeOf(columns);
}

/**
 * Creates ABP's table (and ABP's index) when there is none and our indexes on it for its shape,
 * then runs `ownObjects` (tables of ours beside ABP's, each CREATE ... IF NOT EXISTS), all in one
 * IMMEDIATE transaction: SQLite's one writer at a time serialises concurrent migrations. Returns
 * the table's shape.
 */
export function migrateSqlite(db: Database, ownObjects: string[], names = new TableNames('sqlite')): TableShape {
  const run = (step: string, ddl: string) => {
    try {
      db.exec(ddl);
    } catch (error) {
      throw migrationStepError('sqlite', step, error);
    }
  };
  return db
    .transaction(() => {
      let shape = readSqliteShape(db);
      if (!shape) {
        run('creating the table AbpBackgroundJobs', CREATE_ABP_TABLE);
        run("creating ABP's index on AbpBackgroundJobs", CREATE_ABP_INDEX);
        shape = ABP_TABLE_SHAPE;
      }
      const existing = new Map(
        (
          db
            .prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'AbpBackgroundJobs'`)
            .all() as Row[]
        ).map((r) => [names.original(r.name as string), r.sql === null ? null : names.original(r.sql as string)]),
      );
      for (const index of sqliteOwnIndexes(shape)) {
        const sql = existing.get(index.name);
        if (sql !== undefined && sql !== null && oneLine(sql) === oneLine(index.create)) continue;
        if (sql !== undefined) run(`dropping our index ${index.name} to make it again`, `DROP INDEX "${index.name}"`);
        run(`creating our index ${index.name} on AbpBackgroundJobs`, index.create);
      }
      for (const ddl of ownObjects) run('creating our tables beside AbpBackgroundJobs', ddl);
      return shape;
    })
    .immediate();
}

/** SQL text with runs of white space as one space: sqlite_master keeps the text as written, its spaces too. */
function oneLine(sql: string): string {
  return sql.replace(/\s+/g, ' ').trim();
}

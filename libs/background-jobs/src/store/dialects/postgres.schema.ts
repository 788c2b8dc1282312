import type { PoolClient } from 'pg';
import { ABP_TABLE_SHAPE, OPTIONAL_ABP_COLUMNS, perShape, shapeOf, TableShape } from '../table-shape';
import { TableNames } from '../table-names';
import { migrationStepError } from './migration-errors';
import { PostgresIndex, postgresStateIndexes, liveAndAbandoned } from './postgres.admin';

/**
 * AbpBackgroundJobs on PostgreSQL: ABP's table where there is none, our indexes on it, for the
 * shape it has (see table-shape.ts). Every statement runs only when the catalog says its object is
 * missing or out of date, so a login that may only read and write rows migrates a table that is
 * ready (PostgreSQL refuses even CREATE ... IF NOT EXISTS to a login that does not own the table).
 */
const MIGRATION_LOCK_KEY = 727_465_313; // any fixed bigint; names this module's schema lock

/** ABP 10.6's table, as its Npgsql migrations make it. */
export const CREATE_ABP_TABLE = `CREATE TABLE "AbpBackgroundJobs" (
    "Id" uuid NOT NULL,
    "ApplicationName" character varying(96) NULL,
    "JobName" character varying(128) NOT NULL,
    "JobArgs" character varying(1048576) NOT NULL,
    "TryCount" smallint NOT NULL DEFAULT 0,
    "CreationTime" timestamp without time zone NOT NULL,
    "NextTryTime" timestamp without time zone NOT NULL,
    "LastTryTime" timestamp without time zone NULL,
    "IsAbandoned" boolean NOT NULL DEFAULT FALSE,
    "Priority" smallint NOT NULL DEFAULT 15,
    "CompletionTime" timestamp without time zone NULL,
    "ExtraProperties" text NOT NULL,
    "ConcurrencyStamp" character varying(40) NOT NULL,
    CONSTRAINT "PK_AbpBackgroundJobs" PRIMARY KEY ("Id"))`;
/** ABP 10.6's index; EF Core cuts identifiers at PostgreSQL's 63 characters with a trailing "~": this is the name it gives. */
export const CREATE_ABP_INDEX = `CREATE INDEX "IX_AbpBackgroundJobs_ApplicationName_CompletionTime_IsAbandone~"
    ON "AbpBackgroundJobs" ("ApplicationName", "CompletionTime", "IsAbandoned", "NextTryTime")`;

/**
 * Ours, beside ABP's: lets a claim read the first due rows in dequeue order instead of sorting
 * every waiting row under FOR UPDATE. ApplicationName leads, as in the claim's ORDER BY, so the
 * planner prefers it to ABP's index even before the table has statistics.
 */
export const postgresDequeueIndex = perShape((shape): PostgresIndex => ({
  name: 'IX_AbpBackgroundJobs_Dequeue',
  columns: `(${shape.applicationName ? '"ApplicationName", ' : ''}"Priority" DESC, "TryCount", "NextTryTime")`,
  where: liveAndAbandoned(shape).live,
}));

/** Our indexes on ABP's table, for its shape: none names a column the table lacks. */
export const postgresOwnIndexes = perShape((shape) => [postgresDequeueIndex(shape), ...postgresStateIndexes(shape)]);

const READ_SHAPE = `SELECT ARRAY(SELECT attname::text FROM pg_attribute
  WHERE attrelid = to_regclass('"AbpBackgroundJobs"') AND attnum > 0 AND NOT attisdropped) AS "columns"`;
const INDEXES = `SELECT indexname AS name, indexdef AS definition FROM pg_indexes
  WHERE schemaname = current_schema() AND tablename = 'AbpBackgroundJobs'`;
const EXISTS = 'SELECT to_regclass($1) IS NOT NULL AS "exists"';
/** The object a `CREATE [UNIQUE] TABLE|INDEX IF NOT EXISTS "name"` makes. */
const CREATES = /^\s*CREATE\s+(?:UNIQUE\s+)?(?:TABLE|INDEX)\s+IF\s+NOT\s+EXISTS\s+("[^"]+")/i;

type Query = (sql: string) => Promise<{ rows: Array<Record<string, unknown>> }>;

/** The table's shape from the catalog; undefined when there is no table. */
export async function readPostgresShape(query: Query): Promise<TableShape | undefined> {
  const { rows } = await query(READ_SHAPE);
  const columns = (rows[0]?.columns as string[] | undefined) ?? [];
  return columns.length === 0 ? undefined : shapeOf(columns);
}

/**
 * Creates ABP's table (and ABP's index) when there is none, our indexes on it for its shape (one of
 * ours that names other columns, or a column the table has not or no longer, is made again), then
 * `ownObjects`: statements of ours beside ABP's table, each run unless the table or index it
 * creates exists. Serialised across processes by a transaction-level advisory lock. Returns the
 * table's shape.
 */
export async function migratePostgres(
  client: PoolClient,
  ownObjects: string[],
  names = new TableNames('postgres'),
): Promise<TableShape> {
  const run = async (step: string, ddl: string) => {
    try {
      await client.query(ddl);
    } catch (error) {
      throw migrationStepError('postgres', step, error);
    }
  };
  await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
  let shape = await readPostgresShape((sql) => client.query(sql));
  if (!shape) {
    await run('creating the table AbpBackgroundJobs', CREATE_ABP_TABLE);
    await run("creating ABP's index on AbpBackgroundJobs", CREATE_ABP_INDEX);
    shape = ABP_TABLE_SHAPE;
  }
  const existing = new Map(
    (await client.query<{ name: string; definition: string }>(INDEXES)).rows.map((r) => [
      names.original(r.name),
      names.original(r.definition),
    ]),
  );
  for (const index of postgresOwnIndexes(shape)) {
    const definition = existing.get(index.name);
    if (definition !== undefined && !isStale(definition, index)) continue;
    if (definition !== undefined)
      await run(`dropping our index ${index.name} to make it again`, `DROP INDEX "${index.name}"`);
    await run(
      `creating our index ${index.name} on AbpBackgroundJobs`,
      `CREATE INDEX "${index.name}" ON "AbpBackgroundJobs" ${index.columns} WHERE ${index.where}`,
    );
  }
  for (const ddl of ownObjects) {
    const target = CREATES.exec(ddl)?.[1];
    if (target && (await client.query<{ exists: boolean }>(EXISTS, [names.regclass(target)])).rows[0].exists) continue;
    await run(target ? `creating ${target}` : 'migrating our tables', ddl);
  }
  return shape;
}

/**
 * An index of ours made for another table than this one: other key columns, or not naming the
 * same of ABP's later columns (a table ABP's migration gave ApplicationName or CompletionTime
 * since). `definition` is PostgreSQL's (pg_indexes.indexdef).
 */
function isStale(definition: string, index: PostgresIndex): boolean {
  const ours = `${index.columns} ${index.where}`;
  return (
    !definition.includes(index.columns) ||
    OPTIONAL_ABP_COLUMNS.some((column) => definition.includes(`"${column}"`) !== ours.includes(`"${column}"`))
  );
}

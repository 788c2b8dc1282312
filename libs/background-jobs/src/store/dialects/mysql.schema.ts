import type { PoolConnection } from 'mysql2/promise';
import { ABP_TABLE_SHAPE, perShape, shapeOf, TableShape } from '../table-shape';
import { TableNames } from '../table-names';
import { migrationStepError } from './migration-errors';
import { MYSQL_STATE_INDEX, mysqlStateIndexColumns } from './mysql.admin';

/**
 * AbpBackgroundJobs on MySQL and MariaDB: ABP's table where there is none, our indexes on it, for
 * the shape it has (see table-shape.ts). Every statement runs only when the catalog says its object
 * is missing or out of date, so a login that may only read and write rows migrates a table that is
 * ready (MySQL refuses even CREATE TABLE IF NOT EXISTS without the CREATE privilege).
 */
const MIGRATION_LOCK = 'AbpBackgroundJobs.migrate';
const MIGRATION_LOCK_TIMEOUT_SECONDS = 60;

/** ABP 10.6's table, as its Pomelo migrations make it. */
export const CREATE_ABP_TABLE = `CREATE TABLE \`AbpBackgroundJobs\` (
  \`Id\` char(36) COLLATE ascii_general_ci NOT NULL,
  \`ApplicationName\` varchar(96) NULL,
  \`JobName\` varchar(128) NOT NULL,
  \`JobArgs\` longtext NOT NULL,
  \`TryCount\` smallint NOT NULL DEFAULT 0,
  \`CreationTime\` datetime(6) NOT NULL,
  \`NextTryTime\` datetime(6) NOT NULL,
  \`LastTryTime\` datetime(6) NULL,
  \`IsAbandoned\` tinyint(1) NOT NULL DEFAULT FALSE,
  \`Priority\` tinyint unsigned NOT NULL DEFAULT 15,
  \`CompletionTime\` datetime(6) NULL,
  \`ExtraProperties\` longtext NOT NULL,
  \`ConcurrencyStamp\` varchar(40) NOT NULL,
  CONSTRAINT \`PK_AbpBackgroundJobs\` PRIMARY KEY (\`Id\`)
) CHARACTER SET=utf8mb4`;
/** ABP 10.6's index; EF Core cuts names at MySQL's 64 characters with a trailing "~": this is the name Pomelo gives it. */
export const CREATE_ABP_INDEX =
  'CREATE INDEX `IX_AbpBackgroundJobs_ApplicationName_CompletionTime_IsAbandoned~` ON `AbpBackgroundJobs` (`ApplicationName`, `CompletionTime`, `IsAbandoned`, `NextTryTime`)';

/** An index of ours on ABP's table: its columns, a DESC one as `Name DESC`. */
interface MysqlIndex {
  name: string;
  columns: string[];
}

/** Our indexes on ABP's table, for its shape: none names a column the table lacks. */
export const mysqlOwnIndexes = perShape((shape: TableShape): MysqlIndex[] => [
  {
    // Lets a claim read due rows in dequeue order and stop at its LIMIT instead of sorting (and
    // locking) every due row. MariaDB before 10.8 ignores DESC and sorts anyway.
    name: 'IX_AbpBackgroundJobs_Dequeue',
    columns: [
      ...(shape.applicationName ? ['ApplicationName'] : []),
      ...(shape.completionTime ? ['CompletionTime'] : []),
      'IsAbandoned',
      'Priority DESC',
      'TryCount',
      'NextTryTime',
    ],
  },
  // The management service's lists and counts by state (mysql.admin.ts).
  { name: MYSQL_STATE_INDEX, columns: mysqlStateIndexColumns(shape) },
]);

const COLUMNS = `SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS
  WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'AbpBackgroundJobs'`;
const INDEXES = `SELECT INDEX_NAME AS name, GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX SEPARATOR ',') AS columns
  FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'AbpBackgroundJobs'
  GROUP BY INDEX_NAME`;
const TABLE_EXISTS = `SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?`;
/** The table a `CREATE TABLE IF NOT EXISTS \`name\`` makes. */
const CREATES_TABLE = /^\s*CREATE\s+TABLE\s+IF\s+NOT\s+EXISTS\s+`([^`]+)`/i;

type Query = (sql: string, values?: unknown[]) => Promise<unknown>;
type Row = Record<string, unknown>;

async function rows(query: Query, sql: string, values: unknown[] = []): Promise<Row[]> {
  return ((await query(sql, values)) as [Row[], unknown])[0];
}

/** The table's shape from the catalog; undefined when there is no table. */
export async function readMysqlShape(query: Query): Promise<TableShape | undefined> {
  const columns = (await rows(query, COLUMNS)).map((r) => r.name as string);
  return columns.length === 0 ? undefined : shapeOf(columns);
}

/**
 * Creates ABP's table (and ABP's index) when there is none, our indexes on it for its shape (one of
 * ours on other columns is made again), then `ownTables`: tables of ours beside ABP's, each
 * `CREATE TABLE IF NOT EXISTS` run only while its table is missing. Serialised across processes by
 * GET_LOCK. Returns the table's shape.
 */
export async function migrateMysql(
  connection: PoolConnection,
  ownTables: string[],
  names = new TableNames('mysql'),
): Promise<TableShape> {
  const query: Query = (sql, values) => connection.query(sql, values);
  const run = async (step: string, ddl: string) => {
    try {
      await connection.query(ddl);
    } catch (error) {
      throw migrationStepError('mysql', step, error);
    }
  };
  const [lock] = await rows(query, 'SELECT GET_LOCK(?, ?) AS acquired', [
    MIGRATION_LOCK,
    MIGRATION_LOCK_TIMEOUT_SECONDS,
  ]);
  if (Number(lock.acquired) !== 1) {
    throw new Error(
      `Timed out after ${MIGRATION_LOCK_TIMEOUT_SECONDS}s waiting for another process to finish migrating AbpBackgroundJobs`,
    );
  }
  try {
    let shape = await readMysqlShape(query);
    if (!shape) {
      await run('creating the table AbpBackgroundJobs', CREATE_ABP_TABLE);
      await run("creating ABP's index on AbpBackgroundJobs", CREATE_ABP_INDEX);
      shape = ABP_TABLE_SHAPE;
    }
    const existing = new Map(
      (await rows(query, INDEXES)).map((r) => [names.original(r.name as string), r.columns as string]),
    );
    for (const index of mysqlOwnIndexes(shape)) {
      const columns = existing.get(index.name);
      if (columns === index.columns.map((c) => c.replace(/ DESC$/, '')).join(',')) continue;
      if (columns !== undefined)
        await run(
          `dropping our index ${index.name} to make it again`,
          `DROP INDEX \`${index.name}\` ON \`AbpBackgroundJobs\``,
        );
      await run(
        `creating our index ${index.name} on AbpBackgroundJobs`,
        `CREATE INDEX \`${index.name}\` ON \`AbpBackgroundJobs\` (${index.columns.map((c) => c.replace(/^(\w+)/, '`$1`')).join(', ')})`,
      );
    }
    for (const ddl of ownTables) {
      const table = CREATES_TABLE.exec(ddl)?.[1];
      if (table && Number((await rows(query, TABLE_EXISTS, [names.sql(table)]))[0].n) > 0) continue;
      await run(table ? `creating the table ${table}` : 'migrating our tables', ddl);
    }
    return shape;
  } finally {
    await connection.query('SELECT RELEASE_LOCK(?)', [MIGRATION_LOCK]);
  }
}

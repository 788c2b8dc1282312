import type { Pool, PoolConnection } from 'mysql2/promise';
import { JOB_STATES, JobState } from '../../admin/background-jobs-admin.types';
import { recordFromRow } from '../background-job-record';
import type { JobNameCount } from '../background-job-store';
import {
  AdminListRequest,
  HistoryCount,
  JobAdminStore,
  JobStateRow,
  LIST_ORDER,
  ListedJob,
  LISTED_ARGS_LENGTH,
  RequeueUpdate,
  StateCount,
} from '../job-admin-store';
import { countStatesBounded } from '../state-counts';
import { perShape, TableShape, TableShapeCache } from '../table-shape';
import { inTransaction, LEASE_STAMP_LIKE, retryOnDeadlock } from './dialect-helpers';

/**
 * MySQL's and MariaDB's side of the management service (see job-admin-store.ts). Neither has
 * partial indexes, so one index of ours (IX_AbpBackgroundJobs_State: CompletionTime, IsAbandoned,
 * TryCount, NextTryTime, and InnoDB's implicit Id) serves the states: waiting and scheduled lists
 * are ordered reads of it; retrying, processing, abandoned and succeeded lists sort the rows of
 * their state. Neither has UPDATE ... RETURNING, so an action is one short READ COMMITTED
 * transaction: SELECT ... FOR UPDATE of the ids its WHERE allows (the rows are then locked), and
 * the write of exactly those. Names compare as bytes (the collations ignore case and trailing
 * spaces). Big tables: a state's count is EXPLAIN's estimate (InnoDB's index dives), split
 * between job names as its first ESTIMATE_SPLIT_ROWS rows are.
 */
const TABLE = '`AbpBackgroundJobs`';
const NOW = ':now';
const LEASED = `\`ConcurrencyStamp\` LIKE '${LEASE_STAMP_LIKE}'`;
const HELD = `(${LEASED} AND \`NextTryTime\` > ${NOW})`;

export const MYSQL_STATE_INDEX = 'IX_AbpBackgroundJobs_State';
/** Ours, beside ABP's, for a table of this shape: the state index's columns (made by mysql.schema.ts). */
export const mysqlStateIndexColumns = (shape: TableShape): string[] => [
  ...(shape.completionTime ? ['CompletionTime'] : []),
  'IsAbandoned',
  'TryCount',
  'NextTryTime',
];
export const MYSQL_CREATE_WORKERS = `CREATE TABLE IF NOT EXISTS \`AbpBackgroundJobWorkers\` (
  \`Id\` char(36) COLLATE ascii_general_ci NOT NULL,
  \`Host\` varchar(256) NOT NULL,
  \`Pid\` int NOT NULL,
  \`ApplicationName\` varchar(96) NULL,
  \`JobNames\` longtext NOT NULL,
  \`MaxParallel\` int NOT NULL,
  \`Running\` int NOT NULL,
  \`StartedAt\` datetime(6) NOT NULL,
  \`LastHeartbeat\` datetime(6) NOT NULL,
  CONSTRAINT \`PK_AbpBackgroundJobWorkers\` PRIMARY KEY (\`Id\`)
) CHARACTER SET=utf8mb4`;

/** The management service's statements for a table of this shape, built once per shape. */
const statementsFor = perShape((shape: TableShape) => {
  const notCompleted = shape.completionTime ? '`CompletionTime` IS NULL AND ' : '';
  const live = `${notCompleted}\`IsAbandoned\` = 0`;
  /** Each state's rows (NOW marks where now is bound); without CompletionTime no row is succeeded. */
  const stateWhere: Record<JobState, string | undefined> = {
    waiting: `${live} AND \`TryCount\` = 0 AND \`NextTryTime\` <= ${NOW}`,
    scheduled: `${live} AND \`TryCount\` = 0 AND \`NextTryTime\` > ${NOW} AND NOT ${HELD}`,
    retrying: `${live} AND \`TryCount\` >= 1 AND NOT ${HELD}`,
    processing: `${live} AND ${LEASED} AND \`NextTryTime\` > ${NOW}`,
    abandoned: `${notCompleted}\`IsAbandoned\` <> 0`,
    succeeded: shape.completionTime ? '`CompletionTime` IS NOT NULL' : undefined,
  };
  const stateOf = `CASE ${shape.completionTime ? "WHEN `CompletionTime` IS NOT NULL THEN 'succeeded' " : ''}WHEN \`IsAbandoned\` <> 0 THEN 'abandoned'
  WHEN ${HELD} THEN 'processing' WHEN \`TryCount\` >= 1 THEN 'retrying'
  WHEN \`NextTryTime\` > ${NOW} THEN 'scheduled' ELSE 'waiting' END`;
  const scheduled = `\`Id\` IN (?) AND ${stateWhere.scheduled}`;
  const failedPerMinute = `SELECT DATE_FORMAT(\`LastTryTime\`, '%Y-%m-%dT%H:%i:00Z') AS minute, 0 AS succeeded, COUNT(*) AS failed FROM ${TABLE}
    WHERE ${notCompleted}\`LastTryTime\` >= ? AND (\`IsAbandoned\` <> 0 OR \`TryCount\` >= 1) AND NOT ${HELD}
    GROUP BY 1`;
  return {
    stateWhere,
    // Every name in a group is the same bytes, so MIN gives it back as stored.
    countAll: `SELECT MIN(\`JobName\`) AS jobName, ${stateOf} AS state, COUNT(*) AS n FROM ${TABLE}
  GROUP BY CAST(\`JobName\` AS BINARY), state`,
    listed: `\`Id\`, ${shape.applicationName ? '`ApplicationName`, ' : ''}\`JobName\`, LEFT(\`JobArgs\`, ${LISTED_ARGS_LENGTH}) AS \`JobArgs\`,
        CHAR_LENGTH(\`JobArgs\`) > ${LISTED_ARGS_LENGTH} AS \`ArgsCut\`, \`TryCount\`, \`CreationTime\`, \`NextTryTime\`,
        \`LastTryTime\`, \`IsAbandoned\`, \`Priority\`, ${shape.completionTime ? '`CompletionTime`, ' : ''}\`ExtraProperties\`, \`ConcurrencyStamp\``,
    read: `SELECT \`Id\`, \`TryCount\`, \`NextTryTime\`, \`IsAbandoned\`, ${shape.completionTime ? '`CompletionTime`, ' : ''}\`ConcurrencyStamp\`, \`ExtraProperties\`
  FROM ${TABLE} WHERE \`Id\` IN (?)`,
    lockRequeuable: `SELECT \`Id\`, \`ConcurrencyStamp\` FROM ${TABLE}
  WHERE \`Id\` IN (?) AND ${notCompleted}(\`IsAbandoned\` <> 0 OR \`TryCount\` >= 1) AND NOT ${HELD} FOR UPDATE`,
    lockScheduled: `SELECT \`Id\` FROM ${TABLE} WHERE ${scheduled} FOR UPDATE`,
    runNow: `UPDATE ${TABLE} SET \`NextTryTime\` = ?, \`ConcurrencyStamp\` = ? WHERE ${scheduled}`,
    perMinute: `SELECT minute, SUM(succeeded) AS succeeded, SUM(failed) AS failed FROM (
    ${
      shape.completionTime
        ? `SELECT DATE_FORMAT(\`CompletionTime\`, '%Y-%m-%dT%H:%i:00Z') AS minute, COUNT(*) AS succeeded, 0 AS failed FROM ${TABLE}
    WHERE \`CompletionTime\` IS NOT NULL AND \`CompletionTime\` >= ? GROUP BY minute
    UNION ALL
    `
        : ''
    }${failedPerMinute}) AS counts
  GROUP BY minute`,
  };
});

const ROWS_UP_TO = `SELECT COUNT(*) AS n FROM (SELECT 1 FROM ${TABLE} LIMIT ?) AS bounded`;
const countState = (where: string) => `SELECT MIN(\`JobName\`) AS jobName, COUNT(*) AS n
  FROM (SELECT \`JobName\` FROM ${TABLE} WHERE ${where} LIMIT ?) AS bounded GROUP BY CAST(\`JobName\` AS BINARY)`;
/** Read through our index: its range estimates come from index dives, which count the rows of a range closely. */
const explainState = (where: string) =>
  `EXPLAIN FORMAT=JSON SELECT 1 FROM ${TABLE} FORCE INDEX (\`${MYSQL_STATE_INDEX}\`) WHERE ${where}`;
/** Rows of an estimated state whose job names tell how its estimate splits between them. */
const ESTIMATE_SPLIT_ROWS = 10_000;

const REQUEUE = `UPDATE ${TABLE} SET \`NextTryTime\` = ?, \`IsAbandoned\` = 0, \`TryCount\` = 0, \`ExtraProperties\` = ?, \`ConcurrencyStamp\` = ?
  WHERE \`Id\` = ? AND \`ConcurrencyStamp\` = ?`;
const NOT_HELD = `\`Id\` IN (?) AND NOT ${HELD}`;
const LOCK_NOT_HELD = `SELECT \`Id\` FROM ${TABLE} WHERE ${NOT_HELD} FOR UPDATE`;
const DELETE = `DELETE FROM ${TABLE} WHERE ${NOT_HELD}`;

/** REPEATABLE READ would lock gaps of the scanned ranges and hold enqueues up until commit. */
const READ_COMMITTED = 'SET TRANSACTION ISOLATION LEVEL READ COMMITTED';
const TIME_TEXT = "'%Y-%m-%d %H:%i:%s.%f'";

type Row = Record<string, unknown>;

export class MysqlJobAdminStore implements JobAdminStore {
  constructor(
    private readonly pool: Pool,
    private readonly table: TableShapeCache,
  ) {}

  private async statements() {
    return statementsFor(await this.table.shape());
  }

  async countStates(now: Date, exactUpTo: number): Promise<StateCount[]> {
    const statements = await this.statements();
    return countStatesBounded(
      {
        rowsUpTo: async (limit) => Number((await this.rows(ROWS_UP_TO, [limit]))[0].n),
        countAll: async () => {
          const { sql, values } = withNow(statements.countAll, [], now);
          return (await this.rows(sql, values)).map((r) => ({
            jobName: r.jobName as string,
            state: r.state as JobState,
            count: Number(r.n),
            estimated: false,
          }));
        },
        estimate: () => this.estimate(statements.stateWhere, now),
        countState: (state, limit) => this.countState(statements.stateWhere[state], now, limit),
      },
      exactUpTo,
    );
  }

  private async estimate(stateWhere: Record<JobState, string | undefined>, now: Date): Promise<StateCount[]> {
    const estimates: StateCount[] = [];
    for (const state of JOB_STATES) {
      const where = stateWhere[state];
      if (where === undefined) continue;
      const { sql, values } = withNow(explainState(where), [], now);
      const [plan] = await this.rows(sql, values);
      const total = estimatedRows(JSON.parse(String(Object.values(plan)[0])));
      if (total <= 0) continue;
      const split = (await this.countState(where, now, Number.MAX_SAFE_INTEGER, ESTIMATE_SPLIT_ROWS)) ?? [];
      const seen = split.reduce((sum, c) => sum + c.count, 0);
      for (const c of split)
        estimates.push({ jobName: c.jobName, state, count: (total * c.count) / seen, estimated: true });
    }
    return estimates;
  }

  /** Exact up to `limit` (undefined above it), reading at most `read` rows; a state no row can be in has none. */
  private async countState(
    where: string | undefined,
    now: Date,
    limit: number,
    read = limit + 1,
  ): Promise<JobNameCount[] | undefined> {
    if (where === undefined) return [];
    const { sql, values } = withNow(countState(where), [], now);
    const rows = await this.rows(sql, [...values, read]);
    const counts = rows.map((r) => ({ jobName: r.jobName as string, count: Number(r.n) }));
    return counts.reduce((sum, c) => sum + c.count, 0) > limit ? undefined : counts;
  }

  async list(request: AdminListRequest): Promise<ListedJob[]> {
    const shape = await this.table.shape();
    const statements = statementsFor(shape);
    const stateWhere = statements.stateWhere[request.state];
    if (stateWhere === undefined) return [];
    const { column, descending } = LIST_ORDER[request.state];
    const [past, direction] = descending ? ['<', 'DESC'] : ['>', 'ASC'];
    const { sql: where, values } = withNow(stateWhere, [], request.now);
    const filters = [where];
    if (request.jobName !== undefined) {
      filters.push('`JobName` = ? AND CAST(`JobName` AS BINARY) = CAST(? AS BINARY)');
      values.push(request.jobName, request.jobName);
    }
    // A table without ApplicationName has no application filter: every row is every application's.
    if (shape.applicationName && request.applicationName === null) filters.push('`ApplicationName` IS NULL');
    else if (shape.applicationName && request.applicationName !== undefined) {
      filters.push('`ApplicationName` = ? AND CAST(`ApplicationName` AS BINARY) = CAST(? AS BINARY)');
      values.push(request.applicationName, request.applicationName);
    }
    if (request.after) {
      filters.push(`\`${column}\` ${past}= ? AND (\`${column}\` ${past} ? OR \`Id\` ${past} ?)`);
      values.push(request.after.time, request.after.time, request.after.id);
    }
    const sql = `SELECT ${statements.listed},
        DATE_FORMAT(\`${column}\`, ${TIME_TEXT}) AS \`SortTime\`
      FROM ${TABLE} WHERE ${filters.join(' AND ')}
      ORDER BY \`${column}\` ${direction}, \`Id\` ${direction} LIMIT ?`;
    return (await this.rows(sql, [...values, request.limit])).map((row) => ({
      record: recordFromRow(row),
      position: { time: row.SortTime as string, id: row.Id as string },
      jobArgsTruncated: Number(row.ArgsCut) === 1,
    }));
  }

  async read(ids: string[]): Promise<JobStateRow[]> {
    if (ids.length === 0) return [];
    return (await this.rows((await this.statements()).read, [ids])).map((row) => ({
      id: String(row.Id).toLowerCase(),
      tryCount: Number(row.TryCount),
      nextTryTime: row.NextTryTime as Date,
      isAbandoned: Number(row.IsAbandoned) !== 0,
      completionTime: (row.CompletionTime as Date | null) ?? null,
      concurrencyStamp: row.ConcurrencyStamp as string,
      extraProperties: row.ExtraProperties as string,
    }));
  }

  async requeue(updates: RequeueUpdate[], now: Date): Promise<string[]> {
    if (updates.length === 0) return [];
    const lock = withNow((await this.statements()).lockRequeuable, [updates.map((u) => u.id)], now);
    return this.inTransaction(async (connection) => {
      const [locked] = (await connection.query(lock.sql, lock.values)) as [Row[], unknown];
      const stamps = new Map(locked.map((r) => [String(r.Id).toLowerCase(), r.ConcurrencyStamp as string]));
      const done: string[] = [];
      for (const u of updates) {
        if (stamps.get(u.id) !== u.expectedStamp) continue;
        await connection.query(REQUEUE, [now, u.extraProperties, u.newStamp, u.id, u.expectedStamp]);
        done.push(u.id);
      }
      return done;
    });
  }

  async runNow(ids: string[], now: Date, newStamp: string): Promise<string[]> {
    const statements = await this.statements();
    return this.lockedWrite(ids, now, statements.lockScheduled, statements.runNow, [now, newStamp]);
  }

  async delete(ids: string[], now: Date): Promise<string[]> {
    return this.lockedWrite(ids, now, LOCK_NOT_HELD, DELETE, []);
  }

  /** Locks the ids the WHERE allows, then writes those: the rows cannot change between the two. */
  private async lockedWrite(
    ids: string[],
    now: Date,
    lock: string,
    write: string,
    before: unknown[],
  ): Promise<string[]> {
    if (ids.length === 0) return [];
    return this.inTransaction(async (connection) => {
      const locking = withNow(lock, [ids], now);
      const [locked] = (await connection.query(locking.sql, locking.values)) as [Row[], unknown];
      const lockedIds = locked.map((r) => String(r.Id).toLowerCase());
      if (lockedIds.length === 0) return [];
      const writing = withNow(write, [...before, lockedIds], now);
      await connection.query(writing.sql, writing.values);
      return lockedIds;
    });
  }

  async history(since: Date, now: Date): Promise<HistoryCount[]> {
    const shape = await this.table.shape();
    const { sql, values } = withNow(
      statementsFor(shape).perMinute,
      shape.completionTime ? [since, since] : [since],
      now,
    );
    return (await this.rows(sql, values))
      .map((r) => ({ minute: new Date(r.minute as string), succeeded: Number(r.succeeded), failed: Number(r.failed) }))
      .sort((a, b) => a.minute.getTime() - b.minute.getTime());
  }

  private async rows(sql: string, values: unknown[]): Promise<Row[]> {
    const [rows] = (await this.pool.query(sql, values)) as [Row[], unknown];
    return rows;
  }

  /** A deadlock victim (a claim locking the same rows in another order) was rolled back whole: run it again. */
  private inTransaction<T>(work: (connection: PoolConnection) => Promise<T>): Promise<T> {
    return retryOnDeadlock(
      () => inTransaction(() => this.pool.getConnection(), work, [READ_COMMITTED]),
      (error) => (error as { errno?: number })?.errno === 1213,
    );
  }
}

/**
 * The rows a plan reads from EXPLAIN FORMAT=JSON (MariaDB: `rows`; MySQL: `rows_examined_per_scan`):
 * the rows of the index range the state's columns select, as InnoDB's index dives count them.
 * `filtered`, the share the other conditions keep, is left out: without histograms it is a guess.
 */
function estimatedRows(plan: unknown): number {
  if (plan === null || typeof plan !== 'object') return 0;
  const node = plan as Record<string, unknown>;
  const read = node.rows_examined_per_scan ?? (typeof node.table_name === 'string' ? node.rows : undefined);
  if (read !== undefined) return Number(read);
  return Object.values(node).reduce<number>((sum, child) => sum + estimatedRows(child), 0);
}

/**
 * The statement with its NOW marks as `?` and `now` put among `values` where they stand: `values`
 * are the other `?` in order, and a NOW's place is found by counting the `?` before it.
 */
function withNow(sql: string, values: unknown[], now: Date): { sql: string; values: unknown[] } {
  const out: unknown[] = [];
  let rest = [...values];
  const parts = sql.split(NOW);
  for (let i = 0; i < parts.length; i++) {
    const marks = (parts[i].match(/\?/g) ?? []).length;
    out.push(...rest.slice(0, marks));
    rest = rest.slice(marks);
    if (i < parts.length - 1) out.push(now);
  }
  return { sql: parts.join('?'), values: [...out, ...rest] };
}

import type { Database, Statement } from 'better-sqlite3';
import type { JobState } from '../../admin/background-jobs-admin.types';
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
import { fromUtcText, toUtcText } from '../sql-time';
import { countStatesBounded, scaleSample } from '../state-counts';
import { perShape, TableShape, TableShapeCache } from '../table-shape';
import { LEASE_STAMP_LIKE } from './dialect-helpers';

/**
 * SQLite's side of the management service (see job-admin-store.ts). Five partial indexes of ours
 * split the table by state, each row in exactly one of them, so a write costs one index entry
 * more whatever the row's state, and each state's list reads its rows in order from one or two
 * of them: new (TryCount 0, no lease), tried (TryCount >= 1, no lease), leased, abandoned,
 * completed. Statements name their index (INDEXED BY), so a plan can never fall back to sorting
 * the table; migrate() makes the indexes.
 */
const LEASED = `"ConcurrencyStamp" LIKE '${LEASE_STAMP_LIKE}'`;
const NOT_LEASED = `"ConcurrencyStamp" NOT LIKE '${LEASE_STAMP_LIKE}'`;
/** Held by a live lease; `?` is now. */
const HELD = `(${LEASED} AND "NextTryTime" > ?)`;

/** Live rows (neither completed nor abandoned) in a table of this shape. */
export function sqliteLiveRows(shape: TableShape): string {
  return `${shape.completionTime ? '"CompletionTime" IS NULL AND ' : ''}"IsAbandoned" = 0`;
}

/** The state indexes' columns and rows, for a table of this shape (without CompletionTime, no Completed index). */
const stateIndexes = perShape((shape: TableShape) => {
  const live = sqliteLiveRows(shape);
  return {
    New: { columns: '("NextTryTime", "Id")', where: `${live} AND "TryCount" = 0 AND ${NOT_LEASED}` },
    Tried: { columns: '("NextTryTime", "Id")', where: `${live} AND "TryCount" > 0 AND ${NOT_LEASED}` },
    Leased: { columns: '("NextTryTime", "Id")', where: `${live} AND ${LEASED}` },
    Abandoned: {
      columns: '("CreationTime", "Id")',
      where: `${shape.completionTime ? '"CompletionTime" IS NULL AND ' : ''}"IsAbandoned" <> 0`,
    },
    ...(shape.completionTime
      ? { Completed: { columns: '("CompletionTime", "Id")', where: `"CompletionTime" IS NOT NULL` } }
      : {}),
  } as Record<IndexName, { columns: string; where: string }>;
});
type IndexName = 'New' | 'Tried' | 'Leased' | 'Abandoned' | 'Completed';

/** Ours, beside ABP's, made by sqlite.schema.ts: the state indexes for a table of this shape. */
export const sqliteStateIndexes = perShape((shape: TableShape) =>
  Object.entries(stateIndexes(shape)).map(([name, index]) => ({
    name: `IX_AbpBackgroundJobs_${name}`,
    create: `CREATE INDEX "IX_AbpBackgroundJobs_${name}" ON "AbpBackgroundJobs" ${index.columns} WHERE ${index.where}`,
  })),
);

/** Ours, beside ABP's: the workers' heartbeat table. Run by SqliteBackgroundJobStore.migrate(). */
export const SQLITE_ADMIN_MIGRATION = [
  `CREATE TABLE IF NOT EXISTS "AbpBackgroundJobWorkers" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_AbpBackgroundJobWorkers" PRIMARY KEY,
    "Host" TEXT NOT NULL,
    "Pid" INTEGER NOT NULL,
    "ApplicationName" TEXT NULL,
    "JobNames" TEXT NOT NULL,
    "MaxParallel" INTEGER NOT NULL,
    "Running" INTEGER NOT NULL,
    "StartedAt" TEXT NOT NULL,
    "LastHeartbeat" TEXT NOT NULL
  )`,
];

/** A state's rows as the union of parts, each read from one index: its predicate plus what narrows it ('?' is now). */
interface Branch {
  index: IndexName;
  where: string;
  /** How many times `now` is bound in `where`. */
  nows: number;
}

/** The management service's statements for a table of this shape, built once per shape. */
const statementsFor = perShape((shape: TableShape) => {
  const indexes = stateIndexes(shape);
  const part = (index: IndexName, extra = '', nows = 0): Branch => ({
    index,
    where: indexes[index].where + (extra ? ` AND ${extra}` : ''),
    nows,
  });
  const branches: Record<JobState, Branch[]> = {
    waiting: [part('New', '"NextTryTime" <= ?', 1), part('Leased', '"TryCount" = 0 AND "NextTryTime" <= ?', 1)],
    scheduled: [part('New', '"NextTryTime" > ?', 1)],
    retrying: [part('Tried'), part('Leased', '"TryCount" > 0 AND "NextTryTime" <= ?', 1)],
    processing: [part('Leased', '"NextTryTime" > ?', 1)],
    abandoned: [part('Abandoned')],
    succeeded: shape.completionTime ? [part('Completed')] : [],
  };
  /** The state of a row in SQL, in the order of admin/job-states.ts; binds now twice. */
  const stateOf = `CASE ${shape.completionTime ? `WHEN "CompletionTime" IS NOT NULL THEN 'succeeded' ` : ''}WHEN "IsAbandoned" <> 0 THEN 'abandoned'
  WHEN ${LEASED} AND "NextTryTime" > ? THEN 'processing' WHEN "TryCount" >= 1 THEN 'retrying'
  WHEN "NextTryTime" > ? THEN 'scheduled' ELSE 'waiting' END`;
  const notCompleted = shape.completionTime ? '"CompletionTime" IS NULL AND ' : '';
  return {
    branches,
    countAll: `SELECT "JobName" AS jobName, ${stateOf} AS state, COUNT(*) AS n FROM "AbpBackgroundJobs"
  GROUP BY "JobName" COLLATE BINARY, state`,
    /** The rows in a set of rowid windows ([low, high] pairs as JSON), per job name and state. */
    sample: `SELECT job."JobName" AS jobName, ${stateOf.replace(/"(\w+)"/g, 'job."$1"')} AS state, COUNT(*) AS n
  FROM json_each(?) AS win JOIN "AbpBackgroundJobs" AS job
    ON job.rowid BETWEEN json_extract(win.value, '$[0]') AND json_extract(win.value, '$[1]')
  GROUP BY job."JobName" COLLATE BINARY, state`,
    /** The columns a list shows: those of this table. */
    listed: `"Id", ${shape.applicationName ? '"ApplicationName", ' : ''}"JobName", substr("JobArgs", 1, ${LISTED_ARGS_LENGTH}) AS "JobArgs",
        length("JobArgs") > ${LISTED_ARGS_LENGTH} AS "ArgsCut", "TryCount", "CreationTime", "NextTryTime", "LastTryTime",
        "IsAbandoned", "Priority", ${shape.completionTime ? '"CompletionTime", ' : ''}"ExtraProperties", "ConcurrencyStamp"`,
    read: `SELECT "Id", "TryCount", "NextTryTime", "IsAbandoned", ${shape.completionTime ? '"CompletionTime", ' : ''}"ConcurrencyStamp", "ExtraProperties"
  FROM "AbpBackgroundJobs" WHERE "Id" IN (SELECT value FROM json_each(?))`,
    /** Abandoned or retrying, not held, still as the caller read it. Binds: the new values, the id twice, the stamp, now. */
    requeue: `UPDATE "AbpBackgroundJobs"
  SET "NextTryTime" = ?, "IsAbandoned" = 0, "TryCount" = 0, "ExtraProperties" = ?, "ConcurrencyStamp" = ?
  WHERE "Id" IN (?, ?) AND "ConcurrencyStamp" = ? AND ${notCompleted}("IsAbandoned" <> 0 OR "TryCount" >= 1)
    AND NOT ${HELD}
  RETURNING "Id"`,
    runNow: `UPDATE "AbpBackgroundJobs" SET "NextTryTime" = ?, "ConcurrencyStamp" = ?
  WHERE "Id" IN (SELECT value FROM json_each(?)) AND ${sqliteLiveRows(shape)} AND "TryCount" = 0 AND "NextTryTime" > ? AND NOT ${HELD}
  RETURNING "Id"`,
    /** Minutes as 'YYYY-MM-DD HH:MM', the first 16 characters of the stored UTC text; none without CompletionTime. */
    succeededPerMinute: shape.completionTime
      ? `SELECT substr("CompletionTime", 1, 16) AS minute, COUNT(*) AS n
  FROM "AbpBackgroundJobs" INDEXED BY "IX_AbpBackgroundJobs_Completed"
  WHERE "CompletionTime" IS NOT NULL AND "CompletionTime" >= ? GROUP BY minute`
      : undefined,
    failedPerMinute: `SELECT substr("LastTryTime", 1, 16) AS minute, COUNT(*) AS n FROM "AbpBackgroundJobs"
  WHERE ${notCompleted}"LastTryTime" >= ? AND ("IsAbandoned" <> 0 OR "TryCount" >= 1) AND NOT ${HELD}
  GROUP BY minute`,
  };
});

const ROWS_UP_TO = `SELECT COUNT(*) AS n FROM (SELECT 1 FROM "AbpBackgroundJobs" LIMIT ?)`;
const ROWID_RANGE = `SELECT MIN(rowid) AS low, MAX(rowid) AS high FROM "AbpBackgroundJobs"`;
const SAMPLE_WINDOWS = 100;
/** About this many rows are read to estimate a big table's counts. */
const SAMPLE_ROWS = 20_000;

const countState = (branch: Branch) => `SELECT "JobName" AS jobName, COUNT(*) AS n FROM (
  SELECT "JobName" FROM "AbpBackgroundJobs" INDEXED BY "IX_AbpBackgroundJobs_${branch.index}" WHERE ${branch.where} LIMIT ?)
  GROUP BY "JobName" COLLATE BINARY`;

const DELETE = `DELETE FROM "AbpBackgroundJobs" WHERE "Id" IN (SELECT value FROM json_each(?)) AND NOT ${HELD} RETURNING "Id"`;

type Row = Record<string, unknown>;

export class SqliteJobAdminStore implements JobAdminStore {
  private readonly statements = new Map<string, Statement>();

  constructor(
    private readonly db: Database,
    private readonly table: TableShapeCache,
  ) {}

  /** The statements for the table's shape. */
  private async sql() {
    return statementsFor(await this.table.shape());
  }

  async countStates(now: Date, exactUpTo: number): Promise<StateCount[]> {
    const at = toUtcText(now);
    const sql = await this.sql();
    return countStatesBounded(
      {
        rowsUpTo: async (limit) => (this.statement(ROWS_UP_TO).get(limit) as { n: number }).n,
        countAll: async () =>
          (this.statement(sql.countAll).all(at, at) as Array<{ jobName: string; state: JobState; n: number }>).map(
            (r) => ({ jobName: r.jobName, state: r.state, count: r.n, estimated: false }),
          ),
        estimate: async () => this.sample(sql.sample, at),
        countState: async (state, limit) => this.countState(sql.branches[state], at, limit),
      },
      exactUpTo,
    );
  }

  /**
   * Systematic sampling of rowid windows: SAMPLE_WINDOWS windows evenly spread over the rowid
   * range from a random start, together about SAMPLE_ROWS rowids wide. Every rowid is in a window
   * with the same chance, so the rows found, scaled by range / width, estimate the table's.
   */
  private sample(sample: string, at: string): StateCount[] {
    const { low, high } = this.statement(ROWID_RANGE).get() as { low: number | null; high: number | null };
    if (low === null || high === null) return [];
    const span = high - low + 1;
    const step = span / SAMPLE_WINDOWS;
    const width = Math.max(1, Math.min(Math.floor(step), Math.floor(SAMPLE_ROWS / SAMPLE_WINDOWS)));
    const offset = Math.random() * step;
    const windows: Array<[number, number]> = [];
    for (let i = 0; i < SAMPLE_WINDOWS; i++) {
      const start = low + Math.floor(offset + i * step);
      const end = start + width - 1;
      // A window past the end wraps round to the start, so every rowid has the same chance.
      if (end <= high) windows.push([start, end]);
      else windows.push([start, high], [low, low + (end - high) - 1]);
    }
    const rows = this.statement(sample).all(at, at, JSON.stringify(windows)) as Array<{
      jobName: string;
      state: string;
      n: number;
    }>;
    return scaleSample(rows, span / (SAMPLE_WINDOWS * width));
  }

  private countState(branches: Branch[], at: string, limit: number): JobNameCount[] | undefined {
    const counts = new Map<string, number>();
    let total = 0;
    for (const branch of branches) {
      const rows = this.statement(countState(branch)).all(...nows(branch, at), limit + 1) as Array<{
        jobName: string;
        n: number;
      }>;
      for (const r of rows) {
        counts.set(r.jobName, (counts.get(r.jobName) ?? 0) + r.n);
        total += r.n;
      }
      if (total > limit) return undefined;
    }
    return [...counts].map(([jobName, count]) => ({ jobName, count }));
  }

  async list(request: AdminListRequest): Promise<ListedJob[]> {
    const shape = await this.table.shape();
    const statements = statementsFor(shape);
    const branches = statements.branches[request.state];
    if (branches.length === 0) return [];
    const at = toUtcText(request.now);
    const { column, descending } = LIST_ORDER[request.state];
    const [past, direction] = descending ? ['<', 'DESC'] : ['>', 'ASC'];
    const filters: string[] = [];
    const params: unknown[] = [];
    if (request.jobName !== undefined) {
      filters.push('"JobName" = ?');
      params.push(request.jobName);
    }
    // A table without ApplicationName has no application filter: every row is every application's.
    if (shape.applicationName && request.applicationName === null) filters.push('"ApplicationName" IS NULL');
    else if (shape.applicationName && request.applicationName !== undefined) {
      filters.push('"ApplicationName" = ?');
      params.push(request.applicationName);
    }
    if (request.after) {
      filters.push(`"${column}" ${past}= ? AND ("${column}" ${past} ? OR "Id" ${past} ?)`);
      params.push(request.after.time, request.after.time, request.after.id);
    }
    const selects = branches.map(
      (branch) => `SELECT * FROM (SELECT *, "${column}" AS "SortTime", "Id" AS "SortId"
        FROM "AbpBackgroundJobs" INDEXED BY "IX_AbpBackgroundJobs_${branch.index}"
        WHERE ${[branch.where, ...filters].join(' AND ')}
        ORDER BY "${column}" ${direction}, "Id" ${direction} LIMIT ?)`,
    );
    const sql = `SELECT ${statements.listed}, "SortTime", "SortId"
      FROM (${selects.join(' UNION ALL ')}) ORDER BY "SortTime" ${direction}, "SortId" ${direction} LIMIT ?`;
    const values = branches.flatMap((branch) => [...nows(branch, at), ...params, request.limit]);
    const rows = this.statement(sql).all(...values, request.limit) as Row[];
    return rows.map((row) => ({
      record: recordFromRow(row),
      position: { time: row.SortTime as string, id: row.SortId as string },
      jobArgsTruncated: row.ArgsCut === 1,
    }));
  }

  async read(ids: string[]): Promise<JobStateRow[]> {
    return (this.statement((await this.sql()).read).all(idList(ids)) as Row[]).map((row) => {
      const record = recordFromRow(row);
      return {
        id: record.id,
        tryCount: record.tryCount,
        nextTryTime: record.nextTryTime,
        isAbandoned: record.isAbandoned,
        completionTime: record.completionTime,
        concurrencyStamp: record.concurrencyStamp,
        extraProperties: record.extraProperties,
      };
    });
  }

  async requeue(updates: RequeueUpdate[], now: Date): Promise<string[]> {
    const at = toUtcText(now);
    const requeue = this.statement((await this.sql()).requeue);
    return this.db
      .transaction(() =>
        updates.flatMap((u) =>
          (requeue.all(at, u.extraProperties, u.newStamp, ...bothCases(u.id), u.expectedStamp, at) as Row[]).map((r) =>
            String(r.Id).toLowerCase(),
          ),
        ),
      )
      .immediate();
  }

  async runNow(ids: string[], now: Date, newStamp: string): Promise<string[]> {
    const at = toUtcText(now);
    return idsOf(this.statement((await this.sql()).runNow).all(at, newStamp, idList(ids), at, at) as Row[]);
  }

  async delete(ids: string[], now: Date): Promise<string[]> {
    return idsOf(this.statement(DELETE).all(idList(ids), toUtcText(now)) as Row[]);
  }

  async history(since: Date, now: Date): Promise<HistoryCount[]> {
    const from = toUtcText(since);
    const minutes = new Map<string, HistoryCount>();
    const add = (rows: Array<{ minute: string; n: number }>, kind: 'succeeded' | 'failed') => {
      for (const { minute, n } of rows) {
        const point = minutes.get(minute) ?? { minute: fromUtcText(`${minute}:00`)!, succeeded: 0, failed: 0 };
        point[kind] += n;
        minutes.set(minute, point);
      }
    };
    const sql = await this.sql();
    if (sql.succeededPerMinute)
      add(this.statement(sql.succeededPerMinute).all(from) as Array<{ minute: string; n: number }>, 'succeeded');
    add(
      this.statement(sql.failedPerMinute).all(from, toUtcText(now)) as Array<{ minute: string; n: number }>,
      'failed',
    );
    return [...minutes.values()].sort((a, b) => a.minute.getTime() - b.minute.getTime());
  }

  private statement(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) this.statements.set(sql, (statement = this.db.prepare(sql)));
    return statement;
  }
}

function nows(branch: Branch, at: string): string[] {
  return Array<string>(branch.nows).fill(at);
}

function idsOf(rows: Row[]): string[] {
  return rows.map((r) => String(r.Id).toLowerCase());
}

/** Ids are written upper case (EF Core's SQLite provider) and read back lower case; lookups match both. */
function bothCases(id: string): [string, string] {
  return [id.toLowerCase(), id.toUpperCase()];
}

function idList(ids: string[]): string {
  return JSON.stringify(ids.flatMap(bothCases));
}

import type { Database, Statement } from 'better-sqlite3';
import {
  BackgroundJobRecord,
  ClaimedJob,
  isLeaseStamp,
  MAX_TRY_COUNT,
  readClaimedJob,
  recordFromRow,
} from '../background-job-record';
import {
  ApplicationJobNameCount,
  BackgroundJobStore,
  ClaimRequest,
  CompletedJobUpdate,
  FailedJobUpdate,
  ReleaseRequest,
  EnqueueBatch,
  EnqueueKey,
  JobNameCount,
  MAX_DUE_APPLICATION_JOB_NAMES,
  MAX_DUE_JOB_NAMES,
  recordsOf,
  TransactionalJobStore,
  WorkNotifier,
} from '../background-job-store';
import { transactionConnectionOf } from '../caller-transaction';
import { renamingConnection } from '../renaming-connection';
import { TableNames } from '../table-names';
import { fromUtcText, toUtcText } from '../sql-time';
import { newConcurrencyStamp } from '../stamps';
import {
  ABP_TABLE_SHAPE,
  NO_COMPLETION_TIME,
  perShape,
  recordField,
  TableShape,
  TableShapeCache,
  tableColumns,
} from '../table-shape';
import { unreadableJob } from '../unreadable-rows';
import { CountScope, countScope } from './dialect-helpers';
import { SqliteWalWatcher } from './sqlite-wal-watcher';
import { isUnavailableError } from './unavailable-errors';
import { SQLITE_CANCELLATIONS_MIGRATION, SqliteCancellations } from './sqlite.cancellations';
import { SQLITE_SCHEDULES_MIGRATION, SqliteSchedules } from './sqlite.schedules';
import { SqliteStatements } from './sqlite-statements';
import { SqliteUniqueJobs } from './sqlite.unique-jobs';
import { SQLITE_ADMIN_MIGRATION, SqliteJobAdminStore, sqliteLiveRows } from './sqlite.admin';
import { migrateSqlite, readSqliteShape, SQLITE_DEQUEUE_INDEX } from './sqlite.schema';
import { SqliteWorkerHeartbeats } from './sqlite.heartbeats';

/**
 * SQLite, through better-sqlite3's own handle (TypeORM opens it). SQLite has one writer at a
 * time, so each write is atomic on its own and a claim is one IMMEDIATE transaction. Times are
 * UTC text and ids upper-case text, the way EF Core's SQLite provider stores them: times compare
 * as strings, and an ABP app on the same file finds the rows this store writes.
 */
/** Ours, beside ABP's: see enqueue-keys.ts. Ids upper-case and times UTC text, as in AbpBackgroundJobs. */
const CREATE_ENQUEUE_KEYS = `CREATE TABLE IF NOT EXISTS "AbpBackgroundJobEnqueueKeys" (
  "Id" TEXT NOT NULL CONSTRAINT "PK_AbpBackgroundJobEnqueueKeys" PRIMARY KEY,
  "Fingerprint" TEXT NOT NULL,
  "CreationTime" TEXT NOT NULL
)`;
const CREATE_ENQUEUE_KEYS_INDEX = `CREATE INDEX IF NOT EXISTS "IX_AbpBackgroundJobEnqueueKeys_CreationTime"
  ON "AbpBackgroundJobEnqueueKeys" ("CreationTime")`;
const INSERT_ENQUEUE_KEY = `INSERT INTO "AbpBackgroundJobEnqueueKeys" ("Id", "Fingerprint", "CreationTime") VALUES (?, ?, ?)`;
const FIND_ENQUEUE_KEYS = `SELECT "Id", "Fingerprint" FROM "AbpBackgroundJobEnqueueKeys" WHERE "Id" IN (SELECT value FROM json_each(?))`;
const DELETE_ENQUEUE_KEYS_BEFORE = `DELETE FROM "AbpBackgroundJobEnqueueKeys" WHERE "Id" IN (
  SELECT "Id" FROM "AbpBackgroundJobEnqueueKeys" WHERE "CreationTime" < ? ORDER BY "CreationTime" LIMIT ?)`;

/**
 * Ours, beside ABP's: named locks (tryWithLock), one row each while held. SQLite has no lock that
 * goes with a connection, so a row expires (LOCK_TTL_MS) unless its holder renews it: a process
 * that died holding one frees it after that.
 */
const CREATE_LOCKS = `CREATE TABLE IF NOT EXISTS "AbpBackgroundJobLocks" (
  "Name" TEXT NOT NULL CONSTRAINT "PK_AbpBackgroundJobLocks" PRIMARY KEY,
  "Owner" TEXT NOT NULL,
  "ExpiresAt" TEXT NOT NULL
)`;
const TRY_LOCK = `INSERT INTO "AbpBackgroundJobLocks" ("Name", "Owner", "ExpiresAt") VALUES (?, ?, ?)
  ON CONFLICT ("Name") DO UPDATE SET "Owner" = excluded."Owner", "ExpiresAt" = excluded."ExpiresAt"
  WHERE "AbpBackgroundJobLocks"."ExpiresAt" <= ?`;
const RENEW_LOCK = `UPDATE "AbpBackgroundJobLocks" SET "ExpiresAt" = ? WHERE "Name" = ? AND "Owner" = ?`;
const UNLOCK = `DELETE FROM "AbpBackgroundJobLocks" WHERE "Name" = ? AND "Owner" = ?`;
const LOCK_TTL_MS = 60_000;

/**
 * Ours, beside ABP's table, run by migrate() after sqlite.schema.ts has made or adopted ABP's table
 * and our indexes on it, in the same transaction.
 */
const MIGRATE = [
  CREATE_ENQUEUE_KEYS,
  CREATE_ENQUEUE_KEYS_INDEX,
  ...SQLITE_ADMIN_MIGRATION,
  CREATE_LOCKS,
  // Ours, beside ABP's: recurring jobs' schedules and requests to cancel held jobs.
  ...SQLITE_SCHEDULES_MIGRATION,
  ...SQLITE_CANCELLATIONS_MIGRATION,
];

/**
 * The store's statements for a table of this shape, built once per shape. Without ApplicationName
 * every row is every application's: the application's clauses are left out, and so are their values.
 */
const statementsFor = perShape((shape: TableShape) => {
  const columns = tableColumns(shape);
  const live = sqliteLiveRows(shape);
  const app = (clause: string) => (shape.applicationName ? `${clause} AND ` : '');
  /**
   * INDEXED BY: without it SQLite prefers ABP's index for a named application (more equality
   * columns) and sorts every due row of it; the dequeue index reads them in order and stops at the
   * LIMIT. migrate() makes the index, so claims need the migration to have run.
   */
  // Rows go by rowid from here on: any Id finds its row, one SQLite stores as a blob or number too.
  const dueRows = (
    appNameClause: string,
  ) => `SELECT rowid AS "RowId", "ConcurrencyStamp", "NextTryTime" AS "DueTime" FROM "AbpBackgroundJobs" INDEXED BY "${SQLITE_DEQUEUE_INDEX}"
  WHERE ${app(appNameClause)}${live} AND "NextTryTime" <= ?
    AND "JobName" IN (SELECT value FROM json_each(?))
  ORDER BY "Priority" DESC, "TryCount", "NextTryTime" LIMIT ?`;
  /** Kept rows past their retention, through ABP's index (ApplicationName, CompletionTime, ...). */
  const deleteCompleted = (appNameClause: string) => `DELETE FROM "AbpBackgroundJobs" WHERE rowid IN (
  SELECT rowid FROM "AbpBackgroundJobs" WHERE ${app(appNameClause)}"CompletionTime" < ? LIMIT ?)`;
  /**
   * The claim's due-row filter without its job names: ABP's index (ApplicationName, CompletionTime,
   * IsAbandoned, NextTryTime) reads just the due rows. Grouped with BINARY collation, so a column
   * declared NOCASE or RTRIM still keeps 'Job', 'job' and 'Job ' apart.
   */
  const dueByJobName = (appNameClause: string) => `SELECT "JobName" AS jobName, COUNT(*) AS n FROM "AbpBackgroundJobs"
  WHERE ${app(appNameClause)}${live} AND "NextTryTime" <= ?
  GROUP BY "JobName" COLLATE BINARY ORDER BY n DESC, "JobName" COLLATE BINARY LIMIT ?`;
  /** The same rows of every application, grouped by its name too (none without the column). */
  const byApp = (text: string) => (shape.applicationName ? text : '');
  const dueByApplication = `SELECT ${byApp('"ApplicationName" AS applicationName, ')}"JobName" AS jobName, COUNT(*) AS n
  FROM "AbpBackgroundJobs" WHERE ${live} AND "NextTryTime" <= ?
  GROUP BY ${byApp('"ApplicationName" COLLATE BINARY, ')}"JobName" COLLATE BINARY
  ORDER BY n DESC, "JobName" COLLATE BINARY${byApp(', "ApplicationName" COLLATE BINARY')} LIMIT ?`;
  /**
   * ABP's index (ApplicationName, CompletionTime, IsAbandoned, NextTryTime) with every column before
   * NextTryTime fixed (SQLite takes IS NULL as fixing one): its first entry in range is the answer,
   * one seek of a covering index, which the planner picks with or without statistics.
   */
  const oldestDue = (appNameClause: string) => `SELECT "NextTryTime" AS oldest FROM "AbpBackgroundJobs"
  WHERE ${app(appNameClause)}${live} AND "NextTryTime" <= ?
  ORDER BY "NextTryTime" LIMIT 1`;
  return {
    ...shape,
    fields: columns.map(recordField),
    INSERT: `INSERT INTO "AbpBackgroundJobs" (${columns.map((c) => `"${c}"`).join(', ')})
  VALUES (${columns.map(() => '?').join(', ')})`,
    SELECT_DUE_FOR_APP: dueRows('"ApplicationName" = ?'),
    SELECT_DUE_FOR_NULL_APP: dueRows('"ApplicationName" IS NULL'),
    DELETE_COMPLETED_FOR_APP: deleteCompleted('"ApplicationName" = ?'),
    DELETE_COMPLETED_FOR_NULL_APP: deleteCompleted('"ApplicationName" IS NULL'),
    COUNT: {
      all: `SELECT COUNT(*) AS n FROM "AbpBackgroundJobs"`,
      noApplication: `SELECT COUNT(*) AS n FROM "AbpBackgroundJobs"${shape.applicationName ? ' WHERE "ApplicationName" IS NULL' : ''}`,
      application: `SELECT COUNT(*) AS n FROM "AbpBackgroundJobs"${shape.applicationName ? ' WHERE "ApplicationName" = ?' : ''}`,
    } satisfies Record<CountScope, string>,
    DUE_BY_JOB_NAME_FOR_APP: dueByJobName('"ApplicationName" = ?'),
    DUE_BY_JOB_NAME_FOR_NULL_APP: dueByJobName('"ApplicationName" IS NULL'),
    DUE_BY_APPLICATION: dueByApplication,
    OLDEST_DUE_FOR_APP: oldestDue('"ApplicationName" = ?'),
    OLDEST_DUE_FOR_NULL_APP: oldestDue('"ApplicationName" IS NULL'),
  };
});

/** The claim's row selection on ABP 10.6's table, for the test that checks its plan (test/contract/sqlite-dequeue-index.test.ts). */
export const SQLITE_CLAIM = {
  forApp: statementsFor(ABP_TABLE_SHAPE).SELECT_DUE_FOR_APP,
  forNullApp: statementsFor(ABP_TABLE_SHAPE).SELECT_DUE_FOR_NULL_APP,
};

// TryCount stops at ABP's smallint top, as on the other databases (text there stays as it is).
const CLAIM = `UPDATE "AbpBackgroundJobs"
  SET "TryCount" = CASE WHEN "TryCount" < ${MAX_TRY_COUNT} THEN "TryCount" + 1 ELSE "TryCount" END,
    "LastTryTime" = ?, "NextTryTime" = ?, "ConcurrencyStamp" = ?
  WHERE rowid IN (SELECT value FROM json_each(?)) RETURNING rowid AS "RowId", *`;

const ABANDON_UNREADABLE = `UPDATE "AbpBackgroundJobs" SET "IsAbandoned" = 1, "ExtraProperties" = ?, "ConcurrencyStamp" = ?
  WHERE rowid = ? AND "ConcurrencyStamp" = ?`;

const COMPLETE = `DELETE FROM "AbpBackgroundJobs" WHERE "Id" IN (SELECT value FROM json_each(?)) AND "ConcurrencyStamp" = ?`;

const FAIL = `UPDATE "AbpBackgroundJobs"
  SET "NextTryTime" = COALESCE(?, "NextTryTime"), "IsAbandoned" = ?, "ExtraProperties" = ?, "ConcurrencyStamp" = ?
  WHERE "Id" IN (?, ?) AND "ConcurrencyStamp" = ?`;

/** StoreSuccessfulJobs: the row stays, completed (never claimed again), under a new stamp. */
const COMPLETE_AND_KEEP = `UPDATE "AbpBackgroundJobs"
  SET "CompletionTime" = ?, "ExtraProperties" = COALESCE(?, "ExtraProperties"), "ConcurrencyStamp" = ?
  WHERE "Id" IN (?, ?) AND "ConcurrencyStamp" = ?`;

const EXTEND = `UPDATE "AbpBackgroundJobs" SET "NextTryTime" = ?
  WHERE "Id" IN (SELECT value FROM json_each(?)) AND "ConcurrencyStamp" = ?`;

const RELEASE = `UPDATE "AbpBackgroundJobs"
  SET "NextTryTime" = ?, "ConcurrencyStamp" = ?, "TryCount" = CASE WHEN ? THEN MAX("TryCount" - 1, 0) ELSE "TryCount" END
  WHERE "Id" IN (SELECT value FROM json_each(?)) AND "ConcurrencyStamp" = ?`;

const FIND = `SELECT * FROM "AbpBackgroundJobs" WHERE "Id" IN (?, ?)`;
/** Reads the file's header: no table, but an unreadable or locked file fails it (SELECT 1 would not touch the file). */
const PING = 'PRAGMA schema_version';

type Row = Record<string, unknown>;

export class SqliteBackgroundJobStore implements BackgroundJobStore {
  readonly dialect = 'sqlite' as const;
  /** Commits of other processes on this machine, heard through the WAL file (none for an in-memory database). */
  readonly notifier?: WorkNotifier;
  private readonly statements = new Map<string, Statement>();
  readonly admin: SqliteJobAdminStore;
  readonly heartbeats: SqliteWorkerHeartbeats;
  readonly uniqueJobs: SqliteUniqueJobs;
  readonly schedules: SqliteSchedules;
  readonly cancellations: SqliteCancellations;

  /** The table's shape (see table-shape.ts): the statements are those built for it. */
  private readonly table: TableShapeCache;

  /** `table`: the shape the store of the driver's handle knows (a transaction's store shares it). */
  /** The handle, its statements renamed for `names` (ABP's prefix, see table-names.ts). */
  private readonly db: Database;

  constructor(
    private readonly handle: Database,
    table?: TableShapeCache,
    readonly names = new TableNames('sqlite'),
  ) {
    const db = (this.db = renamingConnection(handle, names));
    this.table = table ?? new TableShapeCache(async () => readSqliteShape(db));
    this.admin = new SqliteJobAdminStore(db, this.table);
    this.heartbeats = new SqliteWorkerHeartbeats(db);
    const statements = new SqliteStatements(db);
    this.uniqueJobs = new SqliteUniqueJobs(statements, this.table);
    this.schedules = new SqliteSchedules(statements, this.table);
    this.cancellations = new SqliteCancellations(statements, this.table);
    // The store of the driver's own handle watches for other processes' commits; a transaction's store does not.
    if (!table && !handle.memory)
      this.notifier = new SqliteWalWatcher(`${handle.name}-wal`, () => this.changedByOthers());
  }

  private dataVersion?: number;

  /** Whether another connection committed since the last call: PRAGMA data_version ignores this connection's own commits. */
  private changedByOthers(): boolean {
    const version = this.statement('PRAGMA data_version').pluck().get() as number;
    const changed = version !== this.dataVersion;
    this.dataVersion = version;
    return changed;
  }

  /**
   * TypeORM runs SQLite on this same one connection, so a statement sent while the caller's
   * transaction is open is part of it (the store's own transactions nest as savepoints).
   */
  withinTransaction(entityManager: object): TransactionalJobStore {
    const db = transactionConnectionOf(entityManager, this.dialect) as Database;
    return db === this.handle ? this : new SqliteBackgroundJobStore(db, this.table, this.names);
  }

  async migrate(): Promise<void> {
    this.table.learned(migrateSqlite(this.db, MIGRATE, this.names));
  }

  /** The statements for the table's shape. */
  private async sql() {
    return statementsFor(await this.table.shape());
  }

  async enqueue(batch: EnqueueBatch): Promise<void> {
    if (!batch.keys?.length) {
      await this.insert(recordsOf(batch));
      return;
    }
    const keys = batch.keys;
    const insertKey = this.statement(INSERT_ENQUEUE_KEY);
    const created = toUtcText(batch.creationTime);
    const sql = await this.sql();
    this.db
      .transaction(() => {
        for (const key of keys) insertKey.run(key.id.toUpperCase(), key.fingerprint, created);
        this.insertRows(sql, recordsOf(batch));
      })
      .immediate();
  }

  async insert(rows: BackgroundJobRecord[]): Promise<void> {
    const sql = await this.sql();
    if (!sql.completionTime && rows.some((r) => r.completionTime !== null)) throw new Error(NO_COMPLETION_TIME);
    this.db.transaction(() => this.insertRows(sql, rows)).immediate();
  }

  async claim(given: ClaimRequest): Promise<ClaimedJob[]> {
    const sql = await this.sql();
    // Without ApplicationName every row is every application's (and has none).
    const request = sql.applicationName ? given : { ...given, applicationName: null };
    const now = toUtcText(request.now);
    const names = JSON.stringify(request.jobNames);
    return this.db
      .transaction(() => {
        const due = (
          request.applicationName === null
            ? this.statement(sql.SELECT_DUE_FOR_NULL_APP).all(now, names, request.limit)
            : this.statement(sql.SELECT_DUE_FOR_APP).all(request.applicationName, now, names, request.limit)
        ) as Row[];
        if (due.length === 0) return [];
        // RETURNING gives the new NextTryTime and stamp; what they were comes from the select.
        const before = new Map(due.map((r) => [r.RowId, r]));
        const rowIds = JSON.stringify(due.map((r) => r.RowId));
        const claimed = this.statement(CLAIM).all(
          now,
          toUtcText(request.leaseUntil),
          request.leaseToken,
          rowIds,
        ) as Row[];
        const jobs: ClaimedJob[] = [];
        for (const row of claimed) {
          const selected = before.get(row.RowId);
          row.DueTime = selected?.DueTime;
          const job = readClaimedJob(row, request, isLeaseStamp(selected?.ConcurrencyStamp as string | undefined));
          if (typeof job === 'string') this.abandonUnreadable(row, job, request);
          else jobs.push(job);
        }
        return jobs;
      })
      .immediate();
  }

  /** In the claim's transaction: it commits with the claim or not at all. */
  private abandonUnreadable(row: Row, reason: string, request: ClaimRequest): void {
    const abandoned = unreadableJob(row, reason, request.now);
    this.statement(ABANDON_UNREADABLE).run(
      abandoned.extraProperties,
      abandoned.newStamp,
      row.RowId,
      request.leaseToken,
    );
  }

  async complete(leaseToken: string, ids: string[]): Promise<number> {
    return this.statement(COMPLETE).run(idList(ids), leaseToken).changes;
  }

  async fail(updates: FailedJobUpdate[]): Promise<number> {
    const fail = this.statement(FAIL);
    return this.db
      .transaction(() =>
        updates.reduce(
          (n, u) =>
            n +
            fail.run(
              u.nextTryTime && toUtcText(u.nextTryTime),
              u.nextTryTime ? 0 : 1,
              u.extraProperties,
              u.newStamp,
              ...bothCases(u.id),
              u.leaseToken,
            ).changes,
          0,
        ),
      )
      .immediate();
  }

  async completeAndKeep(updates: CompletedJobUpdate[]): Promise<number> {
    if (!(await this.table.shape()).completionTime) throw new Error(NO_COMPLETION_TIME);
    const keep = this.statement(COMPLETE_AND_KEEP);
    return this.db
      .transaction(() =>
        updates.reduce(
          (n, u) =>
            n +
            keep.run(toUtcText(u.completionTime), u.extraProperties, u.newStamp, ...bothCases(u.id), u.leaseToken)
              .changes,
          0,
        ),
      )
      .immediate();
  }

  /** Without CompletionTime no row is kept, so none is deleted. */
  async deleteCompletedBefore(applicationName: string | null, before: Date, limit: number): Promise<number> {
    const sql = await this.sql();
    if (!sql.completionTime) return 0;
    return applicationName === null || !sql.applicationName
      ? this.statement(sql.DELETE_COMPLETED_FOR_NULL_APP).run(toUtcText(before), limit).changes
      : this.statement(sql.DELETE_COMPLETED_FOR_APP).run(applicationName, toUtcText(before), limit).changes;
  }

  /** A lock row (see CREATE_LOCKS), renewed while `work` runs and deleted after it. */
  async tryWithLock<T>(name: string, work: () => Promise<T>): Promise<{ value: T } | undefined> {
    const owner = newConcurrencyStamp();
    const expiresAt = () => toUtcText(new Date(Date.now() + LOCK_TTL_MS));
    const now = toUtcText(new Date());
    if (this.statement(TRY_LOCK).run(name, owner, expiresAt(), now).changes === 0) return undefined;
    const renew = setInterval(() => {
      try {
        this.statement(RENEW_LOCK).run(expiresAt(), name, owner);
      } catch {
        // A busy or unreadable file: the row expires later, or another holder takes it over.
      }
    }, LOCK_TTL_MS / 3);
    renew.unref();
    try {
      return { value: await work() };
    } finally {
      clearInterval(renew);
      try {
        this.statement(UNLOCK).run(name, owner);
      } catch {
        // Left to expire.
      }
    }
  }

  async hasCompletionTimeColumn(): Promise<boolean> {
    return (await this.table.shape()).completionTime;
  }

  async extendLeases(leaseToken: string, ids: string[], until: Date): Promise<number> {
    return this.statement(EXTEND).run(toUtcText(until), idList(ids), leaseToken).changes;
  }

  async release(request: ReleaseRequest): Promise<number> {
    return this.statement(RELEASE).run(
      toUtcText(request.now),
      request.newStamp,
      request.undoTry ? 1 : 0,
      idList(request.ids),
      request.leaseToken,
    ).changes;
  }

  async find(id: string): Promise<BackgroundJobRecord | undefined> {
    const row = this.statement(FIND).get(...bothCases(id)) as Row | undefined;
    return row && recordFromRow(row);
  }

  async count(applicationName?: string | null): Promise<number> {
    const sql = await this.sql();
    const scope = countScope(applicationName);
    const values = scope === 'application' && sql.applicationName ? [applicationName] : [];
    const row = this.statement(sql.COUNT[scope]).get(...values) as {
      n: number;
    };
    return row.n;
  }

  async countDueByJobName(applicationName: string | null, now: Date): Promise<JobNameCount[]> {
    const sql = await this.sql();
    const rows = (
      applicationName === null || !sql.applicationName
        ? this.statement(sql.DUE_BY_JOB_NAME_FOR_NULL_APP).all(toUtcText(now), MAX_DUE_JOB_NAMES)
        : this.statement(sql.DUE_BY_JOB_NAME_FOR_APP).all(applicationName, toUtcText(now), MAX_DUE_JOB_NAMES)
    ) as Array<{ jobName: string; n: number }>;
    return rows.map((r) => ({ jobName: r.jobName, count: r.n }));
  }

  async countDueByApplication(now: Date): Promise<ApplicationJobNameCount[]> {
    const sql = await this.sql();
    const rows = this.statement(sql.DUE_BY_APPLICATION).all(toUtcText(now), MAX_DUE_APPLICATION_JOB_NAMES) as Array<{
      applicationName?: string | null;
      jobName: string;
      n: number;
    }>;
    return rows.map((r) => ({
      ...(sql.applicationName ? { applicationName: r.applicationName ?? null } : {}),
      jobName: r.jobName,
      count: r.n,
    }));
  }

  async oldestDueTime(applicationName: string | null, now: Date): Promise<Date | null> {
    const sql = await this.sql();
    const row = (
      applicationName === null || !sql.applicationName
        ? this.statement(sql.OLDEST_DUE_FOR_NULL_APP).get(toUtcText(now))
        : this.statement(sql.OLDEST_DUE_FOR_APP).get(applicationName, toUtcText(now))
    ) as { oldest: string } | undefined;
    return row ? fromUtcText(row.oldest) : null;
  }

  async ping(): Promise<void> {
    this.statement(PING).get();
  }

  isUnavailable(error: unknown): boolean {
    return isUnavailableError('sqlite', error);
  }

  private statement(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) this.statements.set(sql, (statement = this.db.prepare(sql)));
    return statement;
  }

  /** Keys are written in upper case only (the table is ours), so lookups need no second case. */
  async findEnqueueKeys(ids: string[]): Promise<EnqueueKey[]> {
    const rows = this.statement(FIND_ENQUEUE_KEYS).all(JSON.stringify(ids.map((id) => id.toUpperCase()))) as Row[];
    return rows.map((r) => ({ id: (r.Id as string).toLowerCase(), fingerprint: r.Fingerprint as string }));
  }

  async deleteEnqueueKeysBefore(time: Date, limit: number): Promise<number> {
    return this.statement(DELETE_ENQUEUE_KEYS_BEFORE).run(toUtcText(time), limit).changes;
  }

  /** The rows of insert() and of a keyed enqueue, inside the caller's transaction. */
  private insertRows(
    sql: { INSERT: string; fields: Array<keyof BackgroundJobRecord> },
    rows: BackgroundJobRecord[],
  ): void {
    const insert = this.statement(sql.INSERT);
    for (const r of rows) {
      const row = {
        ...r,
        id: r.id.toUpperCase(),
        creationTime: toUtcText(r.creationTime),
        nextTryTime: toUtcText(r.nextTryTime),
        lastTryTime: r.lastTryTime && toUtcText(r.lastTryTime),
        isAbandoned: r.isAbandoned ? 1 : 0,
        completionTime: r.completionTime && toUtcText(r.completionTime),
      };
      insert.run(...sql.fields.map((field) => row[field]));
    }
  }
}

/**
 * Ids are written in upper case, as EF Core's SQLite provider writes and looks up Guids, and read
 * back in lower case (as the other databases return them). Lookups match both cases, so rows
 * written in lower case (by older versions of this store) are found too.
 */
function bothCases(id: string): [string, string] {
  return [id.toLowerCase(), id.toUpperCase()];
}

function idList(ids: string[]): string {
  return JSON.stringify(ids.flatMap(bothCases));
}

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
  BackgroundJobStore,
  ClaimRequest,
  FailedJobUpdate,
  ReleaseRequest,
  EnqueueBatch,
  EnqueueKey,
  JobNameCount,
  MAX_DUE_JOB_NAMES,
  recordsOf,
  WorkNotifier,
} from '../background-job-store';
import { toUtcText } from '../sql-time';
import { unreadableJob } from '../unreadable-rows';
import { CountScope, countScope } from './dialect-helpers';
import { SqliteWalWatcher } from './sqlite-wal-watcher';
import { isUnavailableError } from './unavailable-errors';

/**
 * SQLite, through better-sqlite3's own handle (TypeORM opens it). SQLite has one writer at a
 * time, so each write is atomic on its own and a claim is one IMMEDIATE transaction. Times are
 * UTC text and ids upper-case text, the way EF Core's SQLite provider stores them: times compare
 * as strings, and an ABP app on the same file finds the rows this store writes.
 */
const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS "AbpBackgroundJobs" (
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

const NEWER_COLUMNS: Record<string, string> = {
  ApplicationName: 'ALTER TABLE "AbpBackgroundJobs" ADD COLUMN "ApplicationName" TEXT NULL',
  CompletionTime: 'ALTER TABLE "AbpBackgroundJobs" ADD COLUMN "CompletionTime" TEXT NULL',
};

const CREATE_INDEX = `CREATE INDEX IF NOT EXISTS "IX_AbpBackgroundJobs_ApplicationName_CompletionTime_IsAbandoned_NextTryTime"
  ON "AbpBackgroundJobs" ("ApplicationName", "CompletionTime", "IsAbandoned", "NextTryTime")`;

/**
 * Ours, beside ABP's: claims read due rows of their application in dequeue order instead of
 * sorting every waiting row; only live rows are in it. The same columns as on the other
 * databases. An index of this name with other columns or rows is dropped and made again.
 */
const DEQUEUE_INDEX = 'IX_AbpBackgroundJobs_Dequeue';
const DEQUEUE_COLUMNS = '("ApplicationName", "Priority" DESC, "TryCount", "NextTryTime")';
const LIVE_ROWS = 'WHERE "CompletionTime" IS NULL AND "IsAbandoned" = 0';
const CREATE_DEQUEUE_INDEX = `CREATE INDEX IF NOT EXISTS "${DEQUEUE_INDEX}" ON "AbpBackgroundJobs" ${DEQUEUE_COLUMNS} ${LIVE_ROWS}`;
const INDEX_DEFINITION = `SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?`;

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

const INSERT = `INSERT INTO "AbpBackgroundJobs" ("Id", "ApplicationName", "JobName", "JobArgs", "TryCount", "CreationTime",
  "NextTryTime", "LastTryTime", "IsAbandoned", "Priority", "CompletionTime", "ExtraProperties", "ConcurrencyStamp")
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/**
 * INDEXED BY: without it SQLite prefers ABP's index for a named application (more equality
 * columns) and sorts every due row of it; the dequeue index reads them in order and stops at the
 * LIMIT. migrate() makes the index, so claims need the migration to have run.
 */
// Rows go by rowid from here on: any Id finds its row, one SQLite stores as a blob or number too.
const dueRows = (
  appNameClause: string,
) => `SELECT rowid AS "RowId", "ConcurrencyStamp" FROM "AbpBackgroundJobs" INDEXED BY "${DEQUEUE_INDEX}"
  WHERE ${appNameClause} AND "CompletionTime" IS NULL AND "IsAbandoned" = 0 AND "NextTryTime" <= ?
    AND "JobName" IN (SELECT value FROM json_each(?))
  ORDER BY "Priority" DESC, "TryCount", "NextTryTime" LIMIT ?`;
const SELECT_DUE_FOR_APP = dueRows('"ApplicationName" = ?');
const SELECT_DUE_FOR_NULL_APP = dueRows('"ApplicationName" IS NULL');

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

const EXTEND = `UPDATE "AbpBackgroundJobs" SET "NextTryTime" = ?
  WHERE "Id" IN (SELECT value FROM json_each(?)) AND "ConcurrencyStamp" = ?`;

const RELEASE = `UPDATE "AbpBackgroundJobs"
  SET "NextTryTime" = ?, "ConcurrencyStamp" = ?, "TryCount" = CASE WHEN ? THEN MAX("TryCount" - 1, 0) ELSE "TryCount" END
  WHERE "Id" IN (SELECT value FROM json_each(?)) AND "ConcurrencyStamp" = ?`;

const FIND = `SELECT * FROM "AbpBackgroundJobs" WHERE "Id" IN (?, ?)`;
const COUNT: Record<CountScope, string> = {
  all: `SELECT COUNT(*) AS n FROM "AbpBackgroundJobs"`,
  noApplication: `SELECT COUNT(*) AS n FROM "AbpBackgroundJobs" WHERE "ApplicationName" IS NULL`,
  application: `SELECT COUNT(*) AS n FROM "AbpBackgroundJobs" WHERE "ApplicationName" = ?`,
};
/**
 * The claim's due-row filter without its job names: ABP's index (ApplicationName, CompletionTime,
 * IsAbandoned, NextTryTime) reads just the due rows. Grouped with BINARY collation, so a column
 * declared NOCASE or RTRIM still keeps 'Job', 'job' and 'Job ' apart.
 */
const dueByJobName = (appNameClause: string) => `SELECT "JobName" AS jobName, COUNT(*) AS n FROM "AbpBackgroundJobs"
  WHERE ${appNameClause} AND "CompletionTime" IS NULL AND "IsAbandoned" = 0 AND "NextTryTime" <= ?
  GROUP BY "JobName" COLLATE BINARY ORDER BY n DESC, "JobName" COLLATE BINARY LIMIT ?`;
const DUE_BY_JOB_NAME_FOR_APP = dueByJobName('"ApplicationName" = ?');
const DUE_BY_JOB_NAME_FOR_NULL_APP = dueByJobName('"ApplicationName" IS NULL');
/** Reads the file's header: no table, but an unreadable or locked file fails it (SELECT 1 would not touch the file). */
const PING = 'PRAGMA schema_version';

type Row = Record<string, unknown>;

export class SqliteBackgroundJobStore implements BackgroundJobStore {
  readonly dialect = 'sqlite' as const;
  /** Commits of other processes on this machine, heard through the WAL file (none for an in-memory database). */
  readonly notifier?: WorkNotifier;
  private readonly statements = new Map<string, Statement>();
  private dataVersion?: number;

  constructor(private readonly db: Database) {
    if (!db.memory) this.notifier = new SqliteWalWatcher(`${db.name}-wal`, () => this.changedByOthers());
  }

  /** Whether another connection committed since the last call: PRAGMA data_version ignores this connection's own commits. */
  private changedByOthers(): boolean {
    const version = this.statement('PRAGMA data_version').pluck().get() as number;
    const changed = version !== this.dataVersion;
    this.dataVersion = version;
    return changed;
  }

  async migrate(): Promise<void> {
    this.db
      .transaction(() => {
        this.db.exec(CREATE_TABLE);
        const columns = new Set(
          (this.db.prepare('PRAGMA table_info("AbpBackgroundJobs")').all() as Row[]).map((c) => c.name),
        );
        for (const [column, ddl] of Object.entries(NEWER_COLUMNS)) if (!columns.has(column)) this.db.exec(ddl);
        this.db.exec(CREATE_INDEX);
        const dequeueIndex = this.db.prepare(INDEX_DEFINITION).get(DEQUEUE_INDEX) as { sql: string } | undefined;
        if (dequeueIndex && !(dequeueIndex.sql.includes(DEQUEUE_COLUMNS) && dequeueIndex.sql.includes(LIVE_ROWS))) {
          this.db.exec(`DROP INDEX "${DEQUEUE_INDEX}"`);
        }
        this.db.exec(CREATE_DEQUEUE_INDEX);
        this.db.exec(CREATE_ENQUEUE_KEYS);
        this.db.exec(CREATE_ENQUEUE_KEYS_INDEX);
      })
      .immediate();
  }

  async enqueue(batch: EnqueueBatch): Promise<void> {
    if (!batch.keys?.length) {
      await this.insert(recordsOf(batch));
      return;
    }
    const keys = batch.keys;
    const insertKey = this.statement(INSERT_ENQUEUE_KEY);
    const created = toUtcText(batch.creationTime);
    this.db
      .transaction(() => {
        for (const key of keys) insertKey.run(key.id.toUpperCase(), key.fingerprint, created);
        this.insertRows(recordsOf(batch));
      })
      .immediate();
  }

  async insert(rows: BackgroundJobRecord[]): Promise<void> {
    this.db.transaction(() => this.insertRows(rows)).immediate();
  }

  async claim(request: ClaimRequest): Promise<ClaimedJob[]> {
    const now = toUtcText(request.now);
    const names = JSON.stringify(request.jobNames);
    return this.db
      .transaction(() => {
        const due = (
          request.applicationName === null
            ? this.statement(SELECT_DUE_FOR_NULL_APP).all(now, names, request.limit)
            : this.statement(SELECT_DUE_FOR_APP).all(request.applicationName, now, names, request.limit)
        ) as Row[];
        if (due.length === 0) return [];
        const expired = new Set(due.filter((r) => isLeaseStamp(r.ConcurrencyStamp as string)).map((r) => r.RowId));
        const rowIds = JSON.stringify(due.map((r) => r.RowId));
        const claimed = this.statement(CLAIM).all(
          now,
          toUtcText(request.leaseUntil),
          request.leaseToken,
          rowIds,
        ) as Row[];
        const jobs: ClaimedJob[] = [];
        for (const row of claimed) {
          const job = readClaimedJob(row, request, expired.has(row.RowId));
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
    const scope = countScope(applicationName);
    const row = this.statement(COUNT[scope]).get(...(scope === 'application' ? [applicationName] : [])) as {
      n: number;
    };
    return row.n;
  }

  async countDueByJobName(applicationName: string | null, now: Date): Promise<JobNameCount[]> {
    const rows = (
      applicationName === null
        ? this.statement(DUE_BY_JOB_NAME_FOR_NULL_APP).all(toUtcText(now), MAX_DUE_JOB_NAMES)
        : this.statement(DUE_BY_JOB_NAME_FOR_APP).all(applicationName, toUtcText(now), MAX_DUE_JOB_NAMES)
    ) as Array<{ jobName: string; n: number }>;
    return rows.map((r) => ({ jobName: r.jobName, count: r.n }));
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
  private insertRows(rows: BackgroundJobRecord[]): void {
    const insert = this.statement(INSERT);
    for (const r of rows) {
      insert.run(
        r.id.toUpperCase(),
        r.applicationName,
        r.jobName,
        r.jobArgs,
        r.tryCount,
        toUtcText(r.creationTime),
        toUtcText(r.nextTryTime),
        r.lastTryTime && toUtcText(r.lastTryTime),
        r.isAbandoned ? 1 : 0,
        r.priority,
        r.completionTime && toUtcText(r.completionTime),
        r.extraProperties,
        r.concurrencyStamp,
      );
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

/** The claim's row selection, for the test that checks its plan (test/contract/sqlite-dequeue-index.test.ts). */
export const SQLITE_CLAIM = { forApp: SELECT_DUE_FOR_APP, forNullApp: SELECT_DUE_FOR_NULL_APP };

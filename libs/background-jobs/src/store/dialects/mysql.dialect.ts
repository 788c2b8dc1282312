import { createHash } from 'node:crypto';
import type { Pool, PoolConnection } from 'mysql2/promise';
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
} from '../background-job-store';
import {
  AbpColumn,
  NO_COMPLETION_TIME,
  perShape,
  recordField,
  TableShape,
  TableShapeCache,
  tableColumns,
} from '../table-shape';
import { transactionConnectionOf } from '../caller-transaction';
import { renamingConnection } from '../renaming-connection';
import { TableNames } from '../table-names';
import { fromUtcText } from '../sql-time';
import { abandonOrRelease, UnreadableJob, unreadableJob } from '../unreadable-rows';
import {
  chunk,
  CountScope,
  countScope,
  inTransaction,
  MAX_IDS_PER_STATEMENT,
  perChunk,
  retryOnDeadlock,
} from './dialect-helpers';
import { isUnavailableError } from './unavailable-errors';
import { MYSQL_CANCELLATIONS_MIGRATION, MysqlCancellations } from './mysql.cancellations';
import { MYSQL_SCHEDULES_MIGRATION, MysqlSchedules } from './mysql.schedules';
import { MysqlUniqueJobs } from './mysql.unique-jobs';
import { MYSQL_CREATE_WORKERS, MysqlJobAdminStore } from './mysql.admin';
import { migrateMysql, readMysqlShape } from './mysql.schema';
import { MysqlWorkerHeartbeats } from './mysql.heartbeats';

/**
 * MySQL 8 and MariaDB 10.6+, through the mysql2 pool TypeORM opens (timezone 'Z': DATETIME
 * columns hold UTC). The table is the one ABP's Pomelo provider makes. There is no
 * UPDATE ... RETURNING, so a claim is a short transaction: SELECT ... FOR UPDATE SKIP LOCKED,
 * then UPDATE of the rows it locked. Statements go through mysql2's client-side escaping
 * (`query`, not `execute`), which expands `IN (?)` lists and `VALUES ?` rows from one SQL text.
 */
/** Ours, beside ABP's: see enqueue-keys.ts. The index comes with the table, so one statement makes both. */
const CREATE_ENQUEUE_KEYS = `CREATE TABLE IF NOT EXISTS \`AbpBackgroundJobEnqueueKeys\` (
  \`Id\` char(36) COLLATE ascii_general_ci NOT NULL,
  \`Fingerprint\` char(64) COLLATE ascii_general_ci NOT NULL,
  \`CreationTime\` datetime(6) NOT NULL,
  CONSTRAINT \`PK_AbpBackgroundJobEnqueueKeys\` PRIMARY KEY (\`Id\`),
  INDEX \`IX_AbpBackgroundJobEnqueueKeys_CreationTime\` (\`CreationTime\`)
) CHARACTER SET=utf8mb4`;
/**
 * Ours, beside ABP's table, run by migrate() after mysql.schema.ts has made or adopted ABP's table
 * and our indexes on it; each `CREATE TABLE IF NOT EXISTS` runs only while its table is missing.
 */
const MIGRATE = [
  CREATE_ENQUEUE_KEYS,
  MYSQL_CREATE_WORKERS,
  // Ours, beside ABP's: recurring jobs' schedules and requests to cancel held jobs.
  ...MYSQL_SCHEDULES_MIGRATION,
  ...MYSQL_CANCELLATIONS_MIGRATION,
];
const INSERT_ENQUEUE_KEYS = 'INSERT INTO `AbpBackgroundJobEnqueueKeys` (`Id`, `Fingerprint`, `CreationTime`) VALUES ?';
const FIND_ENQUEUE_KEYS = 'SELECT `Id`, `Fingerprint` FROM `AbpBackgroundJobEnqueueKeys` WHERE `Id` IN (?)';
const DELETE_ENQUEUE_KEYS_BEFORE =
  'DELETE FROM `AbpBackgroundJobEnqueueKeys` WHERE `CreationTime` < ? ORDER BY `CreationTime` LIMIT ?';

/** Rows per INSERT; with JobArgs of up to 1 MiB, also kept under max_allowed_packet (16 MiB by default) by size. */
const INSERT_ROWS_PER_STATEMENT = 500;
const INSERT_CHARS_PER_STATEMENT = 4_000_000;

/**
 * The store's statements for a table of this shape, built once per shape. Without ApplicationName
 * every row is every application's: the application's clauses are left out, and so are their values.
 */
const statementsFor = perShape((shape: TableShape) => {
  const columns = tableColumns(shape);
  const live = `${shape.completionTime ? '`CompletionTime` IS NULL AND ' : ''}\`IsAbandoned\` = 0`;
  const app = (clause: string) => (shape.applicationName ? `${clause} AND ` : '');
  // The column's collation ignores case and trailing spaces ('A' = 'a '): the binary test keeps a
  // worker to the names it runs, byte for byte, and leaves look-alike names alone.
  const dueRows = (appNameClause: string) => `SELECT *, \`NextTryTime\` AS \`DueTime\` FROM \`AbpBackgroundJobs\`
  WHERE ${app(appNameClause)}${live} AND \`NextTryTime\` <= ?
    AND \`JobName\` IN (?) AND CAST(\`JobName\` AS BINARY) IN (?)
  ORDER BY \`Priority\` DESC, \`TryCount\`, \`NextTryTime\`
  LIMIT ?
  FOR UPDATE SKIP LOCKED`;
  /**
   * Kept rows past their retention, oldest first through ABP's index (ApplicationName,
   * CompletionTime, ...). The application's name compares as bytes too: the column's collation
   * would take 'App' and 'app ' for one application.
   */
  const deleteCompleted = (appNameClause: string) => `DELETE FROM \`AbpBackgroundJobs\`
  WHERE ${app(appNameClause)}\`CompletionTime\` < ? ORDER BY \`CompletionTime\` LIMIT ?`;
  /**
   * The claim's due-row filter without its job names: ABP's index (ApplicationName, CompletionTime,
   * IsAbandoned, NextTryTime) reads just the due rows. Grouped by the name's bytes: under the
   * default collations 'Job' = 'job' (_ci), and under MariaDB's PAD SPACE ones 'Job' = 'Job ', so
   * a GROUP BY on the column would merge them. Every name in a group is the same bytes, so MIN
   * gives it back as stored.
   */
  const dueByJobName = (
    appNameClause: string,
  ) => `SELECT MIN(\`JobName\`) AS jobName, COUNT(*) AS n FROM \`AbpBackgroundJobs\`
  WHERE ${app(appNameClause)}${live} AND \`NextTryTime\` <= ?
  GROUP BY CAST(\`JobName\` AS BINARY) ORDER BY n DESC, CAST(\`JobName\` AS BINARY) LIMIT ?`;
  /** The same rows of every application, grouped by the bytes of its name too (none without the column). */
  const byApp = (text: string) => (shape.applicationName ? text : '');
  const dueByApplication = `SELECT ${byApp('MIN(`ApplicationName`) AS applicationName, ')}MIN(\`JobName\`) AS jobName, COUNT(*) AS n
  FROM \`AbpBackgroundJobs\` WHERE ${live} AND \`NextTryTime\` <= ?
  GROUP BY ${byApp('CAST(`ApplicationName` AS BINARY), ')}CAST(\`JobName\` AS BINARY)
  ORDER BY n DESC, CAST(\`JobName\` AS BINARY)${byApp(', CAST(`ApplicationName` AS BINARY)')} LIMIT ?`;
  /** The same filter; MIN over ABP's index with every column before NextTryTime fixed is read off the index ("Select tables optimized away"). */
  const oldestDue = (appNameClause: string) => `SELECT MIN(\`NextTryTime\`) AS oldest FROM \`AbpBackgroundJobs\`
  WHERE ${app(appNameClause)}${live} AND \`NextTryTime\` <= ?`;
  return {
    ...shape,
    columns,
    INSERT: `INSERT INTO \`AbpBackgroundJobs\` (${columns.map((c) => `\`${c}\``).join(', ')}) VALUES ?`,
    SELECT_DUE_FOR_APP: dueRows('`ApplicationName` = ?'),
    SELECT_DUE_FOR_NULL_APP: dueRows('`ApplicationName` IS NULL'),
    DELETE_COMPLETED_FOR_APP: deleteCompleted(
      '`ApplicationName` = ? AND CAST(`ApplicationName` AS BINARY) = CAST(? AS BINARY)',
    ),
    DELETE_COMPLETED_FOR_NULL_APP: deleteCompleted('`ApplicationName` IS NULL'),
    COUNT: {
      all: 'SELECT COUNT(*) AS n FROM `AbpBackgroundJobs`',
      noApplication: `SELECT COUNT(*) AS n FROM \`AbpBackgroundJobs\`${shape.applicationName ? ' WHERE `ApplicationName` IS NULL' : ''}`,
      application: `SELECT COUNT(*) AS n FROM \`AbpBackgroundJobs\`${shape.applicationName ? ' WHERE `ApplicationName` = ?' : ''}`,
    } satisfies Record<CountScope, string>,
    DUE_BY_JOB_NAME_FOR_APP: dueByJobName('`ApplicationName` = ?'),
    DUE_BY_JOB_NAME_FOR_NULL_APP: dueByJobName('`ApplicationName` IS NULL'),
    DUE_BY_APPLICATION: dueByApplication,
    OLDEST_DUE_FOR_APP: oldestDue('`ApplicationName` = ?'),
    OLDEST_DUE_FOR_NULL_APP: oldestDue('`ApplicationName` IS NULL'),
  };
});

// TryCount stops at its smallint top: one more would fail the whole claim (out of range, strict mode).
const CLAIM = `UPDATE \`AbpBackgroundJobs\`
  SET \`TryCount\` = CASE WHEN \`TryCount\` < ${MAX_TRY_COUNT} THEN \`TryCount\` + 1 ELSE \`TryCount\` END,
    \`LastTryTime\` = ?, \`NextTryTime\` = ?, \`ConcurrencyStamp\` = ?
  WHERE \`Id\` IN (?)`;

const ABANDON_UNREADABLE = `UPDATE \`AbpBackgroundJobs\` SET \`IsAbandoned\` = 1, \`ExtraProperties\` = ?, \`ConcurrencyStamp\` = ?
  WHERE \`Id\` = ? AND \`ConcurrencyStamp\` = ?`;

const COMPLETE = 'DELETE FROM `AbpBackgroundJobs` WHERE `Id` IN (?) AND `ConcurrencyStamp` = ?';

const FAIL = `UPDATE \`AbpBackgroundJobs\`
  SET \`NextTryTime\` = COALESCE(?, \`NextTryTime\`), \`IsAbandoned\` = ?, \`ExtraProperties\` = ?, \`ConcurrencyStamp\` = ?
  WHERE \`Id\` = ? AND \`ConcurrencyStamp\` = ?`;

/** StoreSuccessfulJobs: the row stays, completed (never claimed again), under a new stamp. */
const COMPLETE_AND_KEEP = `UPDATE \`AbpBackgroundJobs\`
  SET \`CompletionTime\` = ?, \`ExtraProperties\` = COALESCE(?, \`ExtraProperties\`), \`ConcurrencyStamp\` = ?
  WHERE \`Id\` = ? AND \`ConcurrencyStamp\` = ?`;

/** Named locks live as long as the connection that took them; names are at most 64 characters. */
const TRY_LOCK = 'SELECT GET_LOCK(?, 0) AS acquired';
const UNLOCK = 'SELECT RELEASE_LOCK(?)';
const MAX_LOCK_NAME_LENGTH = 64;
const CURRENT_DATABASE = 'SELECT DATABASE() AS name';

const EXTEND = 'UPDATE `AbpBackgroundJobs` SET `NextTryTime` = ? WHERE `Id` IN (?) AND `ConcurrencyStamp` = ?';

const RELEASE = `UPDATE \`AbpBackgroundJobs\`
  SET \`NextTryTime\` = ?, \`ConcurrencyStamp\` = ?, \`TryCount\` = CASE WHEN ? AND \`TryCount\` > 0 THEN \`TryCount\` - 1 ELSE \`TryCount\` END
  WHERE \`Id\` IN (?) AND \`ConcurrencyStamp\` = ?`;

const FIND = 'SELECT * FROM `AbpBackgroundJobs` WHERE `Id` = ?';
const PING = 'SELECT 1';
/**
 * REPEATABLE READ (InnoDB's default) would take gap locks on the scanned range of a claim's
 * locking read and block concurrent enqueues until the claim commits.
 */
const READ_COMMITTED = 'SET TRANSACTION ISOLATION LEVEL READ COMMITTED';

type Row = Record<string, unknown>;

export class MysqlBackgroundJobStore implements BackgroundJobStore {
  readonly dialect = 'mysql' as const;
  readonly admin: MysqlJobAdminStore;
  readonly heartbeats: MysqlWorkerHeartbeats;

  readonly uniqueJobs: MysqlUniqueJobs;
  readonly schedules: MysqlSchedules;
  readonly cancellations: MysqlCancellations;

  /** The table's shape (see table-shape.ts): the statements are those built for it. */
  private readonly table: TableShapeCache;

  /**
   * `pool`: TypeORM's mysql2 pool (its promise wrapper). `callerTransaction`: the connection of the
   * caller's transaction (withinTransaction), on which every statement runs, with no BEGIN of its own.
   * `table`: the shape the store of the pool knows (a transaction's store shares it).
   */
  /** The pool, its statements renamed for `names` (ABP's prefix and schema, see table-names.ts). */
  private readonly pool: Pool;
  private readonly callerTransaction?: PoolConnection;
  /** The pool's default database, once tryWithLock has read it. */
  private database?: string;

  constructor(
    pool: Pool,
    callerTransaction?: PoolConnection,
    table?: TableShapeCache,
    readonly names = new TableNames('mysql'),
  ) {
    this.pool = pool = renamingConnection(pool, names);
    this.callerTransaction = callerTransaction = callerTransaction && renamingConnection(callerTransaction, names);
    this.table = table ?? new TableShapeCache(() => readMysqlShape((sql, values) => this.pool.query(sql, values)));
    this.admin = new MysqlJobAdminStore(pool, this.table);
    this.heartbeats = new MysqlWorkerHeartbeats(pool);
    this.uniqueJobs = new MysqlUniqueJobs(callerTransaction ?? pool, this.table);
    this.schedules = new MysqlSchedules(pool, this.table);
    this.cancellations = new MysqlCancellations(pool, this.table);
  }

  /** The same statements on the connection of the caller's transaction (TypeORM holds mysql2's callback connection). */
  withinTransaction(entityManager: object): TransactionalJobStore {
    const connection = transactionConnectionOf(entityManager, this.dialect) as { promise(): PoolConnection };
    const promised = connection.promise();
    return new MysqlBackgroundJobStore(promised as unknown as Pool, promised, this.table, this.names);
  }

  async migrate(): Promise<void> {
    this.table.learned(await this.withConnection((connection) => migrateMysql(connection, MIGRATE, this.names)));
  }

  private async statements() {
    return statementsFor(await this.table.shape());
  }

  async enqueue(batch: EnqueueBatch): Promise<void> {
    if (!batch.keys?.length) {
      await this.insert(recordsOf(batch));
      return;
    }
    const keys = chunk(batch.keys, MAX_IDS_PER_STATEMENT).map((part) =>
      part.map((k) => [k.id, k.fingerprint, batch.creationTime]),
    );
    const { INSERT, columns } = await this.statements();
    const rows = insertValues(recordsOf(batch), columns);
    await this.inTransaction(async (connection) => {
      for (const values of keys) await connection.query(INSERT_ENQUEUE_KEYS, [values]);
      for (const values of rows) await connection.query(INSERT, [values]);
    });
  }

  async insert(rows: BackgroundJobRecord[]): Promise<void> {
    const { INSERT, columns, completionTime } = await this.statements();
    if (!completionTime && rows.some((r) => r.completionTime !== null)) throw new Error(NO_COMPLETION_TIME);
    const parts = insertValues(rows, columns);
    if (parts.length === 1) {
      await this.pool.query(INSERT, [parts[0]]);
      return;
    }
    await this.inTransaction(async (connection) => {
      for (const values of parts) await connection.query(INSERT, [values]);
    });
  }

  /**
   * Times are read as text (mysql2 makes an Invalid Date of a zero date and year 2001 of year 1)
   * and converted row by row; rows that cannot be read are abandoned once the claim committed.
   */
  async claim(given: ClaimRequest): Promise<ClaimedJob[]> {
    if (given.jobNames.length === 0 || given.limit <= 0) return [];
    const statements = await this.statements();
    // Without ApplicationName every row is every application's (and has none).
    const request = statements.applicationName ? given : { ...given, applicationName: null };
    let unreadable: Array<[Row, string]> = [];
    const jobs = await retryOnDeadlock(
      () =>
        this.inTransaction(async (connection) => {
          unreadable = [];
          const [due] = (await connection.query(
            {
              sql:
                request.applicationName === null ? statements.SELECT_DUE_FOR_NULL_APP : statements.SELECT_DUE_FOR_APP,
              dateStrings: true,
            },
            [
              ...(request.applicationName === null ? [] : [request.applicationName]),
              request.now,
              request.jobNames,
              request.jobNames,
              Math.min(request.limit, MAX_IDS_PER_STATEMENT),
            ],
          )) as [Row[], unknown];
          if (due.length === 0) return [];
          await connection.query(CLAIM, [request.now, request.leaseUntil, request.leaseToken, due.map((r) => r.Id)]);
          // The rows are locked until commit, so their new values are exactly what the UPDATE wrote.
          const claimed: ClaimedJob[] = [];
          for (const row of due) {
            const job = readClaimedJob(row, request, isLeaseStamp(row.ConcurrencyStamp as string));
            if (typeof job === 'string') {
              unreadable.push([row, job]);
              continue;
            }
            if (job.tryCount < MAX_TRY_COUNT) job.tryCount++;
            claimed.push(job);
          }
          return claimed;
        }, true),
      isDeadlock,
    );
    if (unreadable.length > 0) {
      const abandoned = unreadable.map(([row, reason]) => unreadableJob(row, reason, request.now));
      await abandonOrRelease(
        abandoned,
        request,
        (u) => this.abandonUnreadable(u, request.leaseToken),
        (r) => this.release(r),
      );
    }
    return jobs;
  }

  private async abandonUnreadable(jobs: UnreadableJob[], leaseToken: string): Promise<void> {
    for (const j of jobs) await this.affected(ABANDON_UNREADABLE, [j.extraProperties, j.newStamp, j.id, leaseToken]);
  }

  async complete(leaseToken: string, ids: string[]): Promise<number> {
    return perChunk(ids, (part) => this.affected(COMPLETE, [part, leaseToken]));
  }

  async fail(updates: FailedJobUpdate[]): Promise<number> {
    let written = 0;
    for (const u of updates) {
      written += await this.affected(FAIL, [
        u.nextTryTime,
        u.nextTryTime ? 0 : 1,
        u.extraProperties,
        u.newStamp,
        u.id,
        u.leaseToken,
      ]);
    }
    return written;
  }

  /** One UPDATE per row (each row carries its own values), all in one transaction: one commit for the batch. */
  async completeAndKeep(updates: CompletedJobUpdate[]): Promise<number> {
    if (!(await this.table.shape()).completionTime) throw new Error(NO_COMPLETION_TIME);
    return retryOnDeadlock(
      () =>
        this.inTransaction(async (connection) => {
          let written = 0;
          for (const u of updates) {
            const [result] = (await connection.query(COMPLETE_AND_KEEP, [
              u.completionTime,
              u.extraProperties,
              u.newStamp,
              u.id,
              u.leaseToken,
            ])) as [{ affectedRows: number }, unknown];
            written += result.affectedRows;
          }
          return written;
        }),
      isDeadlock,
    );
  }

  /**
   * READ COMMITTED: no gap locks that would hold up enqueues next to the deleted range of the index.
   * Without CompletionTime no row is kept, so none is deleted.
   */
  async deleteCompletedBefore(applicationName: string | null, before: Date, limit: number): Promise<number> {
    const statements = await this.statements();
    if (!statements.completionTime) return 0;
    const [sql, values] =
      applicationName === null || !statements.applicationName
        ? [statements.DELETE_COMPLETED_FOR_NULL_APP, [before, limit]]
        : [statements.DELETE_COMPLETED_FOR_APP, [applicationName, applicationName, before, limit]];
    return retryOnDeadlock(
      () =>
        this.inTransaction(async (connection) => {
          const [result] = (await connection.query(sql, values)) as [{ affectedRows: number }, unknown];
          return result.affectedRows;
        }, true),
      isDeadlock,
    );
  }

  /**
   * GET_LOCK on a connection of its own, held while `work` runs; if the release fails the connection
   * is closed, which frees it. GET_LOCK's names are the whole server's: the name carries the
   * database of the tables (and their prefix), so stores of other databases never hold each other's.
   */
  async tryWithLock<T>(name: string, work: () => Promise<T>): Promise<{ value: T } | undefined> {
    const connection = await this.pool.getConnection();
    let acquired: boolean;
    let lockName: string;
    try {
      const database = this.names.schema || (await this.connectionDatabase(connection));
      lockName = mysqlLockName(`${database}.${this.names.lockName(name)}`);
      const [[row]] = (await connection.query(TRY_LOCK, [lockName])) as [Row[], unknown];
      acquired = Number(row.acquired) === 1;
    } catch (error) {
      connection.destroy();
      throw error;
    }
    if (!acquired) {
      connection.release();
      return undefined;
    }
    try {
      return { value: await work() };
    } finally {
      const released = await connection.query(UNLOCK, [lockName]).then(
        () => true,
        () => false,
      );
      if (released) connection.release();
      else connection.destroy();
    }
  }

  /** The connection's default database (where the tables are without a schema), read once. */
  private async connectionDatabase(connection: PoolConnection): Promise<string> {
    if (this.database === undefined) {
      const [[row]] = (await connection.query(CURRENT_DATABASE)) as [Row[], unknown];
      this.database = typeof row.name === 'string' ? row.name : '';
    }
    return this.database;
  }

  async hasCompletionTimeColumn(): Promise<boolean> {
    return (await this.table.shape()).completionTime;
  }

  async extendLeases(leaseToken: string, ids: string[], until: Date): Promise<number> {
    return perChunk(ids, (part) => this.affected(EXTEND, [until, part, leaseToken]));
  }

  async release(request: ReleaseRequest): Promise<number> {
    return perChunk(request.ids, (part) =>
      this.affected(RELEASE, [request.now, request.newStamp, request.undoTry, part, request.leaseToken]),
    );
  }

  async find(id: string): Promise<BackgroundJobRecord | undefined> {
    const [rows] = (await this.pool.query(FIND, [id])) as [Row[], unknown];
    return rows[0] && recordFromRow(rows[0]);
  }

  async count(applicationName?: string | null): Promise<number> {
    const statements = await this.statements();
    const scope = countScope(applicationName);
    const values = scope === 'application' && statements.applicationName ? [applicationName] : [];
    const [rows] = (await this.pool.query(statements.COUNT[scope], values)) as [Row[], unknown];
    return Number(rows[0].n);
  }

  async countDueByJobName(applicationName: string | null, now: Date): Promise<JobNameCount[]> {
    const statements = await this.statements();
    const [rows] = (await (applicationName === null || !statements.applicationName
      ? this.pool.query(statements.DUE_BY_JOB_NAME_FOR_NULL_APP, [now, MAX_DUE_JOB_NAMES])
      : this.pool.query(statements.DUE_BY_JOB_NAME_FOR_APP, [applicationName, now, MAX_DUE_JOB_NAMES]))) as [
      Row[],
      unknown,
    ];
    return rows.map((r) => ({ jobName: r.jobName as string, count: Number(r.n) }));
  }

  async countDueByApplication(now: Date): Promise<ApplicationJobNameCount[]> {
    const statements = await this.statements();
    const [rows] = (await this.pool.query(statements.DUE_BY_APPLICATION, [now, MAX_DUE_APPLICATION_JOB_NAMES])) as [
      Row[],
      unknown,
    ];
    return rows.map((r) => ({
      ...(statements.applicationName ? { applicationName: r.applicationName as string | null } : {}),
      jobName: r.jobName as string,
      count: Number(r.n),
    }));
  }

  async oldestDueTime(applicationName: string | null, now: Date): Promise<Date | null> {
    const statements = await this.statements();
    const [[row]] = (await (applicationName === null || !statements.applicationName
      ? this.pool.query({ sql: statements.OLDEST_DUE_FOR_NULL_APP, dateStrings: true }, [now])
      : this.pool.query({ sql: statements.OLDEST_DUE_FOR_APP, dateStrings: true }, [applicationName, now]))) as [
      Row[],
      unknown,
    ];
    return fromUtcText(row.oldest as string | null);
  }

  async ping(): Promise<void> {
    await this.pool.query(PING);
  }

  isUnavailable(error: unknown): boolean {
    return isUnavailableError('mysql', error);
  }

  private async affected(sql: string, values: unknown[]): Promise<number> {
    const [result] = (await retryOnDeadlock(() => this.pool.query(sql, values), isDeadlock)) as [
      { affectedRows: number },
      unknown,
    ];
    return result.affectedRows;
  }

  private async withConnection<T>(work: (connection: PoolConnection) => Promise<T>): Promise<T> {
    const connection = await this.pool.getConnection();
    try {
      return await work(connection);
    } finally {
      connection.release();
    }
  }

  /** `readCommitted` for claims (see READ_COMMITTED). */
  private inTransaction<T>(work: (connection: PoolConnection) => Promise<T>, readCommitted = false): Promise<T> {
    if (this.callerTransaction) return work(this.callerTransaction);
    return inTransaction(() => this.pool.getConnection(), work, readCommitted ? [READ_COMMITTED] : []);
  }

  async findEnqueueKeys(ids: string[]): Promise<EnqueueKey[]> {
    const keys: EnqueueKey[] = [];
    for (const part of chunk(ids, MAX_IDS_PER_STATEMENT)) {
      const [rows] = (await this.pool.query(FIND_ENQUEUE_KEYS, [part])) as [Row[], unknown];
      for (const r of rows) keys.push({ id: (r.Id as string).toLowerCase(), fingerprint: r.Fingerprint as string });
    }
    return keys;
  }

  async deleteEnqueueKeysBefore(time: Date, limit: number): Promise<number> {
    return this.affected(DELETE_ENQUEUE_KEYS_BEFORE, [time, limit]);
  }
}

/** The VALUES of insert()'s statements, one list of rows per statement (see splitForInsert). */
function insertValues(rows: BackgroundJobRecord[], columns: AbpColumn[]): unknown[][][] {
  const fields = columns.map(recordField);
  return splitForInsert(rows).map((part) => part.map((r) => fields.map((field) => r[field])));
}

/** A lock name as GET_LOCK takes it: a longer one is cut and told apart by a hash of the whole. */
function mysqlLockName(name: string): string {
  if (name.length <= MAX_LOCK_NAME_LENGTH) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 32);
  return `${name.slice(0, MAX_LOCK_NAME_LENGTH - hash.length - 1)}:${hash}`;
}

/** 1213: chosen as a deadlock victim, the transaction was rolled back. */
function isDeadlock(error: unknown): boolean {
  return (error as { errno?: number })?.errno === 1213;
}

function splitForInsert(rows: BackgroundJobRecord[]): BackgroundJobRecord[][] {
  const parts: BackgroundJobRecord[][] = [];
  let current: BackgroundJobRecord[] = [];
  let chars = 0;
  for (const row of rows) {
    const size = row.jobArgs.length + row.extraProperties.length + 256;
    if (
      current.length > 0 &&
      (current.length >= INSERT_ROWS_PER_STATEMENT || chars + size > INSERT_CHARS_PER_STATEMENT)
    ) {
      parts.push(current);
      current = [];
      chars = 0;
    }
    current.push(row);
    chars += size;
  }
  if (current.length > 0) parts.push(current);
  return parts;
}

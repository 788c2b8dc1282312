import { BackgroundJobRecord, ClaimedJob, MAX_TRY_COUNT, recordFromRow } from '../background-job-record';
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
import { transactionConnectionOf } from '../caller-transaction';
import { renamingConnection } from '../renaming-connection';
import { TableNames } from '../table-names';
import { fromUtcText, toUtcText } from '../sql-time';
import {
  AbpColumn,
  NO_COMPLETION_TIME,
  perShape,
  recordField,
  shapeOf,
  TableShape,
  TableShapeCache,
  tableColumns,
} from '../table-shape';
import { readClaimedRows, UnreadableJob } from '../unreadable-rows';
import {
  chunk,
  CountScope,
  countScope,
  isGuidText,
  LEASE_STAMP_LIKE,
  MAX_IDS_PER_STATEMENT,
  perChunk,
  retryOnDeadlock,
} from './dialect-helpers';
import { SqlParam, SqlRunner } from './mssql-runner';
import { isUnavailableError } from './unavailable-errors';
import { CallerTransactionRunner } from './mssql-caller-transaction';
import { MSSQL_CANCELLATIONS_MIGRATION, MssqlCancellations } from './mssql.cancellations';
import { MSSQL_SCHEDULES_MIGRATION, MssqlSchedules } from './mssql.schedules';
import { MssqlUniqueJobs } from './mssql.unique-jobs';
import { MSSQL_ADMIN_MIGRATION, MssqlJobAdminStore, mssqlLiveRows } from './mssql.admin';
import {
  DEQUEUE_INDEX_NAME,
  MIGRATION_CATALOG,
  MIGRATION_LOCK_TIMEOUT_MS,
  migrationBatch,
  READ_SHAPE,
  readMigrationCatalog,
} from './mssql.schema';
import { migrationStepError } from './migration-errors';
import { MssqlWorkerHeartbeats } from './mssql.heartbeats';

/**
 * SQL Server 2016+, through the mssql pool TypeORM opens (tedious with useUTC: datetime2 columns
 * hold UTC). The table is the one ABP's EF Core migrations make. Lists travel as one JSON
 * parameter read with OPENJSON, so every statement has one fixed text whatever the list length
 * (and stays under the 2,100-parameter limit). Claims and writes touch at most 1,000 rows per
 * statement: SQL Server escalates a statement's row locks to a table lock at 5,000.
 */
export const MAX_CLAIM_ROWS = 1000;

/**
 * The migration's own request timeout, in place of the pool's 30 s: longer than the applock wait, so
 * a migration that waits reaches its clear "timed out waiting" error instead of being cancelled by
 * the driver (which reads as "database unavailable"), and long enough for CREATE INDEX on a large
 * adopted table.
 */
export const MIGRATION_REQUEST_TIMEOUT_MS = 10 * 60_000;
export { MIGRATION_LOCK_TIMEOUT_MS };

/**
 * Ours, beside ABP's table, each behind its IF guard: the end of the migration's second batch
 * (see mssql.schema.ts), after ABP's table and our indexes on it.
 */
const MIGRATE = `IF OBJECT_ID(N'[AbpBackgroundJobEnqueueKeys]', N'U') IS NULL
  CREATE TABLE [AbpBackgroundJobEnqueueKeys] (
    [Id] uniqueidentifier NOT NULL,
    [Fingerprint] nvarchar(64) NOT NULL,
    [CreationTime] datetime2 NOT NULL,
    CONSTRAINT [PK_AbpBackgroundJobEnqueueKeys] PRIMARY KEY ([Id])
  );
IF INDEXPROPERTY(OBJECT_ID(N'[AbpBackgroundJobEnqueueKeys]'), N'IX_AbpBackgroundJobEnqueueKeys_CreationTime', 'IndexID') IS NULL
  EXEC(N'CREATE INDEX [IX_AbpBackgroundJobEnqueueKeys_CreationTime] ON [AbpBackgroundJobEnqueueKeys] ([CreationTime])');
${MSSQL_ADMIN_MIGRATION}
${MSSQL_SCHEDULES_MIGRATION}
${MSSQL_CANCELLATIONS_MIGRATION}`;

/** Each column's type, as the rows' JSON is read. */
const COLUMN_TYPES: Record<AbpColumn, string> = {
  Id: 'uniqueidentifier',
  ApplicationName: 'nvarchar(96)',
  JobName: 'nvarchar(128)',
  JobArgs: 'nvarchar(max)',
  TryCount: 'smallint',
  CreationTime: 'datetime2',
  NextTryTime: 'datetime2',
  LastTryTime: 'datetime2',
  IsAbandoned: 'bit',
  Priority: 'tinyint',
  CompletionTime: 'datetime2',
  ExtraProperties: 'nvarchar(max)',
  ConcurrencyStamp: 'nvarchar(40)',
};

/** Complete rows, as one JSON parameter: the columns a table of this shape has. */
const insertInto = (shape: TableShape) => {
  const columns = tableColumns(shape);
  const names = columns.map((c) => `[${c}]`).join(', ');
  return `INSERT INTO [AbpBackgroundJobs] WITH (ROWLOCK) (${names})
SELECT ${names} FROM OPENJSON(@rows) WITH (
  ${columns.map((c) => `[${c}] ${COLUMN_TYPES[c]} '$.${recordField(c)}'`).join(', ')})`;
};

/** Ours, beside ABP's (see enqueue-keys.ts); MIGRATE makes the table. */
const INSERT_ENQUEUE_KEYS = `INSERT INTO [AbpBackgroundJobEnqueueKeys] WITH (ROWLOCK) ([Id], [Fingerprint], [CreationTime])
SELECT [Id], [Fingerprint], @creationTime FROM OPENJSON(@keys) WITH ([Id] uniqueidentifier '$.id', [Fingerprint] nvarchar(64) '$.fingerprint');`;

/**
 * The most row locks one claim takes while it reads, over all its job names: with the @limit rows
 * it updates, well under the 5,000 locks on one index at which SQL Server escalates a statement's
 * row locks to a table lock (which READPAST cannot skip, so every other claim would wait).
 */
export const MAX_CLAIM_READ_LOCKS = 2000;

/**
 * The claim's @limit for these many job names: each name's seek may lock @limit rows, so names x
 * @limit stays within MAX_CLAIM_READ_LOCKS (for up to 2,000 names; a worker with more claims one
 * row per name and seek).
 */
export function claimLimit(requested: number, jobNameCount: number): number {
  return Math.min(requested, MAX_CLAIM_ROWS, Math.max(1, Math.floor(MAX_CLAIM_READ_LOCKS / jobNameCount)));
}

/** What a claim returns per row: what readClaimedJob reads (the rest comes from the request). */
const CLAIMED = `[Id] uniqueidentifier NOT NULL, [JobName] nvarchar(128) NOT NULL, [JobArgs] nvarchar(max) NOT NULL,
  [TryCount] smallint NOT NULL, [CreationTime] datetime2 NOT NULL, [Priority] tinyint NOT NULL,
  [ExtraProperties] nvarchar(max) NOT NULL, [PreviousLeaseExpired] bit NOT NULL, [DueTime] datetime2 NOT NULL`;

/**
 * Picks and leases due rows in one statement.
 *
 * Which rows: for each of the claim's job names (OPENJSON, names deduplicated by the caller), one
 * seek of the dequeue index, whose keys are (ApplicationName, CompletionTime, IsAbandoned, JobName,
 * Priority DESC, TryCount, NextTryTime), the first two where the table has them: the equalities pin one name, the rows come in dequeue order,
 * and TOP (@limit) stops each seek after @limit due rows; the outer TOP (@limit) keeps the first
 * @limit of those in dequeue order (a sort of at most names x @limit rows, never of every due row).
 * UPDLOCK+ROWLOCK lock just the rows read, READPAST skips rows other claims hold, and
 * READCOMMITTEDLOCK keeps READPAST working where READ_COMMITTED_SNAPSHOT is on. Names also compare
 * as bytes: the collation ignores trailing spaces (and usually case), and a worker must leave
 * look-alike names alone.
 *
 * Why it cannot escalate to a table lock: no row of another job name or application is read (they
 * lie outside every seek's range). Rows of its own names that sort ahead of due ones but are not
 * due (leased, or waiting with a higher priority or fewer tries) fail [NextTryTime] <= @now inside
 * the seek, which lets go of a row that does not qualify. Each name's seek keeps at most @limit
 * rows locked, and
 * claimLimit() keeps names x @limit within MAX_CLAIM_READ_LOCKS (2,000) and @limit within
 * MAX_CLAIM_ROWS (1,000). So one index sees at most 2,000 read locks plus 1,000 for the keys the
 * UPDATE moves, and the table's other indexes at most 2 x 1,000: under the 5,000 locks per index
 * that trigger escalation. The UPDATE reaches each picked row by its primary key (FORCESEEK), so it
 * locks nothing else either. The index hint makes the claim need the migration's dequeue index.
 *
 * OUTPUT goes INTO a table variable, then a SELECT returns it: OUTPUT without INTO fails (error 334)
 * when the table has an enabled trigger, such as an audit trigger a DBA adds. TryCount stops at its
 * smallint top: one more is an arithmetic overflow that fails the claim for every row.
 */
const claim = (shape: TableShape, appNameClause: string) => `DECLARE @claimed TABLE (${CLAIMED});
UPDATE [job]
SET [TryCount] = CASE WHEN [job].[TryCount] < ${MAX_TRY_COUNT} THEN [job].[TryCount] + 1 ELSE [job].[TryCount] END,
    [LastTryTime] = @now, [NextTryTime] = @leaseUntil, [ConcurrencyStamp] = @leaseToken
OUTPUT inserted.[Id], inserted.[JobName], inserted.[JobArgs], inserted.[TryCount], inserted.[CreationTime], inserted.[Priority],
  inserted.[ExtraProperties], CASE WHEN deleted.[ConcurrencyStamp] LIKE N'${LEASE_STAMP_LIKE}' THEN CAST(1 AS bit) ELSE CAST(0 AS bit) END,
  deleted.[NextTryTime]
INTO @claimed
FROM (
  SELECT TOP (@limit) [next].[Id]
  FROM OPENJSON(@jobNames) WITH ([name] nvarchar(128) '$') AS [names]
  CROSS APPLY (
    SELECT TOP (@limit) [Id], [Priority], [TryCount], [NextTryTime]
    FROM [AbpBackgroundJobs] WITH (INDEX([${DEQUEUE_INDEX_NAME}]), UPDLOCK, READPAST, ROWLOCK, READCOMMITTEDLOCK)
    WHERE ${appClause(shape, appNameClause)}${mssqlLiveRows(shape)} AND [JobName] = [names].[name]
      AND [NextTryTime] <= @now AND CAST([JobName] AS varbinary(256)) = CAST([names].[name] AS varbinary(256))
    ORDER BY [Priority] DESC, [TryCount], [NextTryTime]) AS [next]
  ORDER BY [next].[Priority] DESC, [next].[TryCount], [next].[NextTryTime]) AS [picked]
INNER JOIN [AbpBackgroundJobs] AS [job] WITH (ROWLOCK, FORCESEEK) ON [job].[Id] = [picked].[Id];
SELECT [Id], [JobName], [JobArgs], [TryCount], [CreationTime], [Priority], [ExtraProperties], [PreviousLeaseExpired], [DueTime] FROM @claimed;`;

export const ABANDON_UNREADABLE = `UPDATE [job]
SET [IsAbandoned] = CAST(1 AS bit), [ExtraProperties] = [unreadable].[ExtraProperties], [ConcurrencyStamp] = [unreadable].[NewStamp]
FROM [AbpBackgroundJobs] AS [job] WITH (ROWLOCK)
INNER JOIN OPENJSON(@unreadable) WITH (
  [Id] uniqueidentifier '$.id', [ExtraProperties] nvarchar(max) '$.extraProperties', [NewStamp] nvarchar(40) '$.newStamp') AS [unreadable]
  ON [job].[Id] = [unreadable].[Id] AND [job].[ConcurrencyStamp] = @leaseToken;`;

const IDS = `[Id] IN (SELECT [Id] FROM OPENJSON(@ids) WITH ([Id] uniqueidentifier '$'))`;

const COMPLETE = `DELETE FROM [AbpBackgroundJobs] WITH (ROWLOCK) WHERE ${IDS} AND [ConcurrencyStamp] = @leaseToken;`;

const FAIL = `UPDATE [job]
SET [NextTryTime] = COALESCE([failed].[NextTryTime], [job].[NextTryTime]),
    [IsAbandoned] = CASE WHEN [failed].[NextTryTime] IS NULL THEN CAST(1 AS bit) ELSE CAST(0 AS bit) END,
    [ExtraProperties] = [failed].[ExtraProperties], [ConcurrencyStamp] = [failed].[NewStamp]
FROM [AbpBackgroundJobs] AS [job] WITH (ROWLOCK)
INNER JOIN OPENJSON(@failures) WITH (
  [Id] uniqueidentifier '$.id', [LeaseToken] nvarchar(40) '$.leaseToken', [NextTryTime] datetime2 '$.nextTryTime',
  [ExtraProperties] nvarchar(max) '$.extraProperties', [NewStamp] nvarchar(40) '$.newStamp') AS [failed]
  ON [job].[Id] = [failed].[Id] AND [job].[ConcurrencyStamp] = [failed].[LeaseToken];`;

/** StoreSuccessfulJobs: the row stays, completed (never claimed again), under a new stamp. */
export const COMPLETE_AND_KEEP = `UPDATE [job]
SET [CompletionTime] = [done].[CompletionTime], [ExtraProperties] = COALESCE([done].[ExtraProperties], [job].[ExtraProperties]),
    [ConcurrencyStamp] = [done].[NewStamp]
FROM [AbpBackgroundJobs] AS [job] WITH (ROWLOCK)
INNER JOIN OPENJSON(@completions) WITH (
  [Id] uniqueidentifier '$.id', [LeaseToken] nvarchar(40) '$.leaseToken', [CompletionTime] datetime2 '$.completionTime',
  [ExtraProperties] nvarchar(max) '$.extraProperties', [NewStamp] nvarchar(40) '$.newStamp') AS [done]
  ON [job].[Id] = [done].[Id] AND [job].[ConcurrencyStamp] = [done].[LeaseToken];`;

/**
 * Kept rows past their retention, through ABP's index (ApplicationName, CompletionTime, ...).
 * READPAST (with READCOMMITTEDLOCK, for READ_COMMITTED_SNAPSHOT databases) skips rows others hold
 * instead of waiting; at most MAX_CLAIM_ROWS per statement, under lock escalation.
 */
const deleteCompleted = (shape: TableShape, appNameClause: string) =>
  `DELETE TOP (@limit) FROM [AbpBackgroundJobs] WITH (ROWLOCK, READPAST, READCOMMITTEDLOCK) WHERE ${appClause(shape, appNameClause)}[CompletionTime] < @before;`;

/**
 * An application lock owned by a transaction of its own, which stays open (holding nothing else)
 * while the work runs on other connections; the COMMIT, or the connection's end, releases it.
 * sp_getapplock returns 0 or 1 when granted, a negative number when not (timeout 0: at once).
 */
export const TRY_LOCK = `DECLARE @result int;
EXEC @result = sp_getapplock @Resource = @name, @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = 0;
SELECT @result AS [result];`;

const EXTEND = `UPDATE [AbpBackgroundJobs] WITH (ROWLOCK) SET [NextTryTime] = @until WHERE ${IDS} AND [ConcurrencyStamp] = @leaseToken;`;

const RELEASE = `UPDATE [AbpBackgroundJobs] WITH (ROWLOCK)
SET [NextTryTime] = @now, [ConcurrencyStamp] = @newStamp,
    [TryCount] = CASE WHEN @undoTry = 1 AND [TryCount] > 0 THEN [TryCount] - 1 ELSE [TryCount] END
WHERE ${IDS} AND [ConcurrencyStamp] = @leaseToken;`;

const FIND_ENQUEUE_KEYS = `SELECT [Id], [Fingerprint] FROM [AbpBackgroundJobEnqueueKeys] WHERE ${IDS};`;
/** At most @limit keys; the caller keeps it under lock escalation's 5,000 rows. */
const DELETE_ENQUEUE_KEYS_BEFORE = `DELETE TOP (@limit) FROM [AbpBackgroundJobEnqueueKeys] WITH (ROWLOCK) WHERE [CreationTime] < @before;`;

const FIND = 'SELECT * FROM [AbpBackgroundJobs] WHERE [Id] = @id;';

/**
 * The claim's due-row filter without its job names; the dequeue index holds JobName, so it can
 * answer without reading the table. Grouped by the name's bytes: SQL Server compares strings with trailing spaces ignored
 * ('Job' = 'Job ') and, under the usual _CI_ collations, case too. Every name in a group is the
 * same bytes, so MIN gives it back as stored.
 */
const dueByJobName = (
  shape: TableShape,
  appNameClause: string,
) => `SELECT TOP (@limit) MIN([JobName]) AS [jobName], COUNT(*) AS [n] FROM [AbpBackgroundJobs]
WHERE ${appClause(shape, appNameClause)}${mssqlLiveRows(shape)} AND [NextTryTime] <= @now
GROUP BY CAST([JobName] AS varbinary(256))
ORDER BY COUNT(*) DESC, CAST([JobName] AS varbinary(256));`;
/** The same rows of every application, grouped by the bytes of its name too (none without the column). */
const dueByApplication = (shape: TableShape) => {
  const byApp = (text: string) => (shape.applicationName ? text : '');
  return `SELECT TOP (@limit) ${byApp('MIN([ApplicationName]) AS [applicationName], ')}MIN([JobName]) AS [jobName], COUNT(*) AS [n]
FROM [AbpBackgroundJobs] WHERE ${mssqlLiveRows(shape)} AND [NextTryTime] <= @now
GROUP BY ${byApp('CAST([ApplicationName] AS varbinary(192)), ')}CAST([JobName] AS varbinary(256))
ORDER BY COUNT(*) DESC, CAST([JobName] AS varbinary(256))${byApp(', CAST([ApplicationName] AS varbinary(192))')};`;
};
/**
 * The same filter; TOP (1) ... ORDER BY [NextTryTime] on ABP's index (ApplicationName,
 * CompletionTime, IsAbandoned, NextTryTime), every column before NextTryTime fixed: one seek.
 */
const oldestDue = (
  shape: TableShape,
  appNameClause: string,
) => `SELECT TOP (1) [NextTryTime] AS [oldest] FROM [AbpBackgroundJobs]
WHERE ${appClause(shape, appNameClause)}${mssqlLiveRows(shape)} AND [NextTryTime] <= @now
ORDER BY [NextTryTime];`;
const PING = 'SELECT 1;';

/** An application's clause and the AND after it; nothing without ApplicationName (every row is every application's). */
function appClause(shape: TableShape, clause: string): string {
  return shape.applicationName ? `${clause} AND ` : '';
}

/** The store's statements for a table of this shape, built once per shape. */
const statementsFor = perShape((shape: TableShape) => ({
  ...shape,
  INSERT: insertInto(shape),
  CLAIM_FOR_APP: claim(shape, '[ApplicationName] = @applicationName'),
  CLAIM_FOR_NULL_APP: claim(shape, '[ApplicationName] IS NULL'),
  DELETE_COMPLETED_FOR_APP: deleteCompleted(shape, '[ApplicationName] = @applicationName'),
  DELETE_COMPLETED_FOR_NULL_APP: deleteCompleted(shape, '[ApplicationName] IS NULL'),
  COUNT: {
    all: 'SELECT COUNT(*) AS [n] FROM [AbpBackgroundJobs];',
    noApplication: `SELECT COUNT(*) AS [n] FROM [AbpBackgroundJobs]${shape.applicationName ? ' WHERE [ApplicationName] IS NULL' : ''};`,
    application: `SELECT COUNT(*) AS [n] FROM [AbpBackgroundJobs]${shape.applicationName ? ' WHERE [ApplicationName] = @applicationName' : ''};`,
  } satisfies Record<CountScope, string>,
  DUE_BY_JOB_NAME_FOR_APP: dueByJobName(shape, '[ApplicationName] = @applicationName'),
  DUE_BY_JOB_NAME_FOR_NULL_APP: dueByJobName(shape, '[ApplicationName] IS NULL'),
  DUE_BY_APPLICATION: dueByApplication(shape),
  OLDEST_DUE_FOR_APP: oldestDue(shape, '[ApplicationName] = @applicationName'),
  OLDEST_DUE_FOR_NULL_APP: oldestDue(shape, '[ApplicationName] IS NULL'),
}));

export class MssqlBackgroundJobStore implements BackgroundJobStore {
  readonly dialect = 'sqlserver' as const;
  /** SQL Server compares a uniqueidentifier's last six bytes first: ABP's SequentialAtEnd keeps new ids in key order. */
  readonly guidLayout = 'sequentialAtEnd' as const;
  readonly admin: MssqlJobAdminStore;
  readonly heartbeats: MssqlWorkerHeartbeats;

  readonly uniqueJobs: MssqlUniqueJobs;
  readonly schedules: MssqlSchedules;
  readonly cancellations: MssqlCancellations;

  /** The table's shape (see table-shape.ts): the statements are those built for it. */
  private readonly table: TableShapeCache;

  /** `table`: the shape the store of the pool knows (a transaction's store shares it). */
  /** The runner, its statements renamed for `names` (ABP's prefix and schema, see table-names.ts). */
  private readonly sql: SqlRunner;

  constructor(
    sql: SqlRunner,
    table?: TableShapeCache,
    readonly names = new TableNames('mssql'),
  ) {
    this.sql = sql = renamingConnection(sql, names);
    this.table =
      table ??
      new TableShapeCache(async () => {
        const { rows } = await this.sql.query(READ_SHAPE);
        return rows.length === 0 ? undefined : shapeOf(rows.map((r) => r.name as string));
      });
    this.admin = new MssqlJobAdminStore(sql, this.table);
    this.heartbeats = new MssqlWorkerHeartbeats(sql);
    this.uniqueJobs = new MssqlUniqueJobs(sql, this.table);
    this.schedules = new MssqlSchedules(sql, this.table);
    this.cancellations = new MssqlCancellations(sql, this.table);
  }

  /** The same statements on the mssql Transaction that TypeORM's query runner holds for the caller. */
  withinTransaction(entityManager: object): TransactionalJobStore {
    const transaction = transactionConnectionOf(entityManager, this.dialect) as ConstructorParameters<
      typeof CallerTransactionRunner
    >[0];
    return new MssqlBackgroundJobStore(new CallerTransactionRunner(transaction), this.table, this.names);
  }

  /**
   * One transaction, two batches (see mssql.schema.ts): the applock and the catalog, then only the
   * DDL the catalog says is needed, each under the migration's own request timeout.
   */
  async migrate(): Promise<void> {
    const options = { requestTimeoutMs: MIGRATION_REQUEST_TIMEOUT_MS };
    const shape = await this.sql.transaction(async (tx) => {
      const { rows } = await tx.query(MIGRATION_CATALOG, [], options);
      const found = readMigrationCatalog(
        rows.map((r) => (r.kind === 'index' ? { ...r, name: this.names.original(r.name as string) } : r)),
      );
      const { shape, batch, steps } = migrationBatch(found, MIGRATE);
      try {
        await tx.query(batch, [], options);
      } catch (error) {
        throw migrationStepError('sqlserver', steps.join(', '), error);
      }
      return shape;
    });
    this.table.learned(shape);
  }

  private async statements() {
    return statementsFor(await this.table.shape());
  }

  async enqueue(batch: EnqueueBatch): Promise<void> {
    if (!batch.keys?.length) {
      await this.insert(recordsOf(batch));
      return;
    }
    const created: SqlParam = { name: 'creationTime', type: 'datetime2', value: batch.creationTime };
    const keys = chunk(batch.keys, MAX_IDS_PER_STATEMENT).map((part) => [
      nvarcharMax('keys', JSON.stringify(part)),
      created,
    ]);
    const rows = insertParams(recordsOf(batch));
    const { INSERT } = await this.statements();
    await this.sql.transaction(async (tx) => {
      for (const params of keys) await tx.query(INSERT_ENQUEUE_KEYS, params);
      for (const params of rows) await tx.query(INSERT, params);
    });
  }

  async insert(rows: BackgroundJobRecord[]): Promise<void> {
    const { INSERT, completionTime } = await this.statements();
    if (!completionTime && rows.some((r) => r.completionTime !== null)) throw new Error(NO_COMPLETION_TIME);
    const parts = insertParams(rows);
    if (parts.length === 1) {
      await this.sql.query(INSERT, parts[0]);
      return;
    }
    await this.sql.transaction(async (tx) => {
      for (const params of parts) await tx.query(INSERT, params);
    });
  }

  async claim(given: ClaimRequest): Promise<ClaimedJob[]> {
    if (given.jobNames.length === 0 || given.limit <= 0) return [];
    const statements = await this.statements();
    // Without ApplicationName every row is every application's (and has none).
    const request = statements.applicationName ? given : { ...given, applicationName: null };
    const jobNames = [...new Set(request.jobNames)];
    const params: SqlParam[] = [
      { name: 'limit', type: 'int', value: claimLimit(request.limit, jobNames.length) },
      { name: 'now', type: 'datetime2', value: request.now },
      nvarcharMax('jobNames', JSON.stringify(jobNames)),
      { name: 'leaseUntil', type: 'datetime2', value: request.leaseUntil },
      { name: 'leaseToken', type: 'nvarchar(40)', value: request.leaseToken },
    ];
    const { rows } =
      request.applicationName === null
        ? await this.write(statements.CLAIM_FOR_NULL_APP, params)
        : await this.write(statements.CLAIM_FOR_APP, [
            ...params,
            { name: 'applicationName', type: 'nvarchar(96)', value: request.applicationName },
          ]);
    return readClaimedRows(
      rows,
      request,
      (row) => row.PreviousLeaseExpired === true,
      (u) => this.abandonUnreadable(u, request.leaseToken),
      (r) => this.release(r),
    );
  }

  private async abandonUnreadable(jobs: UnreadableJob[], leaseToken: string): Promise<void> {
    await this.write(ABANDON_UNREADABLE, [
      nvarcharMax('unreadable', JSON.stringify(jobs)),
      token('leaseToken', leaseToken),
    ]);
  }

  async complete(leaseToken: string, ids: string[]): Promise<number> {
    return this.perChunk(ids, (idsJson) => this.write(COMPLETE, [idsJson, token('leaseToken', leaseToken)]));
  }

  async fail(updates: FailedJobUpdate[]): Promise<number> {
    return perChunk(updates, async (part) => {
      const failures = part.map((u) => ({
        id: u.id,
        leaseToken: u.leaseToken,
        nextTryTime: u.nextTryTime && toUtcText(u.nextTryTime),
        extraProperties: u.extraProperties,
        newStamp: u.newStamp,
      }));
      return (await this.write(FAIL, [nvarcharMax('failures', JSON.stringify(failures))])).rowsAffected;
    });
  }

  async completeAndKeep(updates: CompletedJobUpdate[]): Promise<number> {
    if (!(await this.table.shape()).completionTime) throw new Error(NO_COMPLETION_TIME);
    return perChunk(updates, async (part) => {
      const completions = part.map((u) => ({
        id: u.id,
        leaseToken: u.leaseToken,
        completionTime: toUtcText(u.completionTime),
        extraProperties: u.extraProperties,
        newStamp: u.newStamp,
      }));
      return (await this.write(COMPLETE_AND_KEEP, [nvarcharMax('completions', JSON.stringify(completions))]))
        .rowsAffected;
    });
  }

  /** Without CompletionTime no row is kept, so none is deleted. */
  async deleteCompletedBefore(applicationName: string | null, before: Date, limit: number): Promise<number> {
    const statements = await this.statements();
    if (!statements.completionTime) return 0;
    const params: SqlParam[] = [
      { name: 'limit', type: 'int', value: Math.min(limit, MAX_CLAIM_ROWS) },
      { name: 'before', type: 'datetime2', value: before },
    ];
    const { rowsAffected } =
      applicationName === null || !statements.applicationName
        ? await this.write(statements.DELETE_COMPLETED_FOR_NULL_APP, params)
        : await this.write(statements.DELETE_COMPLETED_FOR_APP, [
            ...params,
            { name: 'applicationName', type: 'nvarchar(96)', value: applicationName },
          ]);
    return rowsAffected;
  }

  async tryWithLock<T>(name: string, work: () => Promise<T>): Promise<{ value: T } | undefined> {
    return this.sql.transaction(async (tx) => {
      // Application locks are per database; the name carries the schema and prefix of other tables.
      const resource = this.names.lockName(name);
      const { rows } = await tx.query(TRY_LOCK, [{ name: 'name', type: 'nvarchar(255)', value: resource }]);
      if (!(Number(rows[0]?.result) >= 0)) return undefined;
      return { value: await work() };
    });
  }

  async hasCompletionTimeColumn(): Promise<boolean> {
    return (await this.table.shape()).completionTime;
  }

  async extendLeases(leaseToken: string, ids: string[], until: Date): Promise<number> {
    return this.perChunk(ids, (idsJson) =>
      this.write(EXTEND, [
        idsJson,
        token('leaseToken', leaseToken),
        { name: 'until', type: 'datetime2', value: until },
      ]),
    );
  }

  async release(request: ReleaseRequest): Promise<number> {
    return this.perChunk(request.ids, (idsJson) =>
      this.write(RELEASE, [
        idsJson,
        token('leaseToken', request.leaseToken),
        { name: 'now', type: 'datetime2', value: request.now },
        token('newStamp', request.newStamp),
        { name: 'undoTry', type: 'bit', value: request.undoTry },
      ]),
    );
  }

  async find(id: string): Promise<BackgroundJobRecord | undefined> {
    // The driver refuses a uniqueidentifier parameter that is no Guid; no row has such an id.
    if (!isGuidText(id)) return undefined;
    const { rows } = await this.sql.query(FIND, [{ name: 'id', type: 'uniqueidentifier', value: id }]);
    return rows[0] && recordFromRow(rows[0]);
  }

  async count(applicationName?: string | null): Promise<number> {
    const statements = await this.statements();
    const scope = countScope(applicationName);
    const params: SqlParam[] =
      scope === 'application' && statements.applicationName
        ? [{ name: 'applicationName', type: 'nvarchar(96)', value: applicationName }]
        : [];
    const { rows } = await this.sql.query(statements.COUNT[scope], params);
    return Number(rows[0].n);
  }

  async countDueByJobName(applicationName: string | null, now: Date): Promise<JobNameCount[]> {
    const params: SqlParam[] = [
      { name: 'limit', type: 'int', value: MAX_DUE_JOB_NAMES },
      { name: 'now', type: 'datetime2', value: now },
    ];
    const statements = await this.statements();
    const { rows } =
      applicationName === null || !statements.applicationName
        ? await this.sql.query(statements.DUE_BY_JOB_NAME_FOR_NULL_APP, params)
        : await this.sql.query(statements.DUE_BY_JOB_NAME_FOR_APP, [
            ...params,
            { name: 'applicationName', type: 'nvarchar(96)', value: applicationName },
          ]);
    return rows.map((r) => ({ jobName: r.jobName as string, count: Number(r.n) }));
  }

  async countDueByApplication(now: Date): Promise<ApplicationJobNameCount[]> {
    const statements = await this.statements();
    const { rows } = await this.sql.query(statements.DUE_BY_APPLICATION, [
      { name: 'limit', type: 'int', value: MAX_DUE_APPLICATION_JOB_NAMES },
      { name: 'now', type: 'datetime2', value: now },
    ]);
    return rows.map((r) => ({
      ...(statements.applicationName ? { applicationName: (r.applicationName as string | null) ?? null } : {}),
      jobName: r.jobName as string,
      count: Number(r.n),
    }));
  }

  async oldestDueTime(applicationName: string | null, now: Date): Promise<Date | null> {
    const params: SqlParam[] = [{ name: 'now', type: 'datetime2', value: now }];
    const statements = await this.statements();
    const { rows } =
      applicationName === null || !statements.applicationName
        ? await this.sql.query(statements.OLDEST_DUE_FOR_NULL_APP, params)
        : await this.sql.query(statements.OLDEST_DUE_FOR_APP, [
            ...params,
            { name: 'applicationName', type: 'nvarchar(96)', value: applicationName },
          ]);
    return rows.length === 0 ? null : fromUtcText(rows[0].oldest as Date | string);
  }

  async ping(): Promise<void> {
    await this.sql.query(PING);
  }

  isUnavailable(error: unknown): boolean {
    return isUnavailableError('sqlserver', error);
  }

  private write(sql: string, params: SqlParam[]) {
    return retryOnDeadlock(() => this.sql.query(sql, params), isDeadlock);
  }

  /** Runs `write` per chunk of ids, each chunk as one JSON parameter @ids. */
  private perChunk(ids: string[], write: (idsJson: SqlParam) => Promise<{ rowsAffected: number }>): Promise<number> {
    return perChunk(ids, async (part) => (await write(nvarcharMax('ids', JSON.stringify(part)))).rowsAffected);
  }

  async findEnqueueKeys(ids: string[]): Promise<EnqueueKey[]> {
    const keys: EnqueueKey[] = [];
    for (const part of chunk(ids, MAX_IDS_PER_STATEMENT)) {
      const { rows } = await this.sql.query(FIND_ENQUEUE_KEYS, [nvarcharMax('ids', JSON.stringify(part))]);
      for (const r of rows) keys.push({ id: (r.Id as string).toLowerCase(), fingerprint: r.Fingerprint as string });
    }
    return keys;
  }

  async deleteEnqueueKeysBefore(time: Date, limit: number): Promise<number> {
    const { rowsAffected } = await this.write(DELETE_ENQUEUE_KEYS_BEFORE, [
      { name: 'limit', type: 'int', value: limit },
      { name: 'before', type: 'datetime2', value: time },
    ]);
    return rowsAffected;
  }
}

/** insert()'s statements' parameters: the rows as JSON, at most 1,000 per statement. */
function insertParams(rows: BackgroundJobRecord[]): SqlParam[][] {
  return chunk(rows, MAX_IDS_PER_STATEMENT).map((part) => [nvarcharMax('rows', JSON.stringify(part.map(toJsonRow)))]);
}

/** 1205: chosen as a deadlock victim; the statement was rolled back. */
function isDeadlock(error: unknown): boolean {
  return (error as { number?: number })?.number === 1205;
}

function nvarcharMax(name: string, value: string): SqlParam {
  return { name, type: 'nvarchar(max)', value };
}

function token(name: string, value: string): SqlParam {
  return { name, type: 'nvarchar(40)', value };
}

/** Times as 'YYYY-MM-DD HH:MM:SS.mmm': datetime2 reads that form the same under every language and DATEFORMAT. */
function toJsonRow(r: BackgroundJobRecord) {
  return {
    ...r,
    creationTime: toUtcText(r.creationTime),
    nextTryTime: toUtcText(r.nextTryTime),
    lastTryTime: r.lastTryTime && toUtcText(r.lastTryTime),
    completionTime: r.completionTime && toUtcText(r.completionTime),
  };
}

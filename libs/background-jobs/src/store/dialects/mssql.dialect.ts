import { BackgroundJobRecord, ClaimedJob, MAX_TRY_COUNT, recordFromRow } from '../background-job-record';
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
} from '../background-job-store';
import { fromUtcText, toUtcText } from '../sql-time';
import { readClaimedRows, UnreadableJob } from '../unreadable-rows';
import {
  chunk,
  CountScope,
  countScope,
  LEASE_STAMP_LIKE,
  MAX_IDS_PER_STATEMENT,
  perChunk,
  retryOnDeadlock,
} from './dialect-helpers';
import { SqlParam, SqlRunner } from './mssql-runner';
import { isUnavailableError } from './unavailable-errors';

/**
 * SQL Server 2016+, through the mssql pool TypeORM opens (tedious with useUTC: datetime2 columns
 * hold UTC). The table is the one ABP's EF Core migrations make. Lists travel as one JSON
 * parameter read with OPENJSON, so every statement has one fixed text whatever the list length
 * (and stays under the 2,100-parameter limit). Claims and writes touch at most 1,000 rows per
 * statement: SQL Server escalates a statement's row locks to a table lock at 5,000.
 */
export const MAX_CLAIM_ROWS = 1000;

const DEQUEUE_INDEX = `CREATE INDEX [IX_AbpBackgroundJobs_Dequeue] ON [AbpBackgroundJobs]
  ([ApplicationName], [CompletionTime], [IsAbandoned], [Priority] DESC, [TryCount], [NextTryTime]) INCLUDE ([JobName], [ConcurrencyStamp])`;

/**
 * One batch, one transaction: the applock (owned by the transaction) serialises concurrent
 * migrations across processes and is released by the COMMIT. Statements on columns or indexes
 * that may be created in this same batch run through EXEC, so the batch compiles on an old table.
 */
const MIGRATE = `SET XACT_ABORT ON;
IF (SELECT [compatibility_level] FROM sys.databases WHERE [database_id] = DB_ID()) < 130
  THROW 50001, N'AbpBackgroundJobs needs database compatibility level 130 (SQL Server 2016) or higher for OPENJSON. Run: ALTER DATABASE CURRENT SET COMPATIBILITY_LEVEL = 130', 1;
BEGIN TRANSACTION;
DECLARE @lock int;
EXEC @lock = sp_getapplock @Resource = N'AbpBackgroundJobs.migrate', @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = 60000;
IF @lock < 0
  THROW 50002, N'Timed out after 60 s waiting for another process to finish migrating AbpBackgroundJobs', 1;
IF OBJECT_ID(N'[AbpBackgroundJobs]', N'U') IS NULL
  CREATE TABLE [AbpBackgroundJobs] (
    [Id] uniqueidentifier NOT NULL,
    [ApplicationName] nvarchar(96) NULL,
    [JobName] nvarchar(128) NOT NULL,
    [JobArgs] nvarchar(max) NOT NULL,
    [TryCount] smallint NOT NULL DEFAULT CAST(0 AS smallint),
    [CreationTime] datetime2 NOT NULL,
    [NextTryTime] datetime2 NOT NULL,
    [LastTryTime] datetime2 NULL,
    [IsAbandoned] bit NOT NULL DEFAULT CAST(0 AS bit),
    [Priority] tinyint NOT NULL DEFAULT CAST(15 AS tinyint),
    [CompletionTime] datetime2 NULL,
    [ExtraProperties] nvarchar(max) NOT NULL,
    [ConcurrencyStamp] nvarchar(40) NOT NULL,
    CONSTRAINT [PK_AbpBackgroundJobs] PRIMARY KEY ([Id])
  );
IF COL_LENGTH(N'[AbpBackgroundJobs]', N'ApplicationName') IS NULL
  EXEC(N'ALTER TABLE [AbpBackgroundJobs] ADD [ApplicationName] nvarchar(96) NULL');
IF COL_LENGTH(N'[AbpBackgroundJobs]', N'CompletionTime') IS NULL
  EXEC(N'ALTER TABLE [AbpBackgroundJobs] ADD [CompletionTime] datetime2 NULL');
IF INDEXPROPERTY(OBJECT_ID(N'[AbpBackgroundJobs]'), N'IX_AbpBackgroundJobs_ApplicationName_CompletionTime_IsAbandoned_NextTryTime', 'IndexID') IS NULL
  EXEC(N'CREATE INDEX [IX_AbpBackgroundJobs_ApplicationName_CompletionTime_IsAbandoned_NextTryTime] ON [AbpBackgroundJobs] ([ApplicationName], [CompletionTime], [IsAbandoned], [NextTryTime])');
IF INDEXPROPERTY(OBJECT_ID(N'[AbpBackgroundJobs]'), N'IX_AbpBackgroundJobs_Dequeue', 'IndexID') IS NULL
  EXEC(N'${DEQUEUE_INDEX}');
IF OBJECT_ID(N'[AbpBackgroundJobEnqueueKeys]', N'U') IS NULL
  CREATE TABLE [AbpBackgroundJobEnqueueKeys] (
    [Id] uniqueidentifier NOT NULL,
    [Fingerprint] nvarchar(64) NOT NULL,
    [CreationTime] datetime2 NOT NULL,
    CONSTRAINT [PK_AbpBackgroundJobEnqueueKeys] PRIMARY KEY ([Id])
  );
IF INDEXPROPERTY(OBJECT_ID(N'[AbpBackgroundJobEnqueueKeys]'), N'IX_AbpBackgroundJobEnqueueKeys_CreationTime', 'IndexID') IS NULL
  EXEC(N'CREATE INDEX [IX_AbpBackgroundJobEnqueueKeys_CreationTime] ON [AbpBackgroundJobEnqueueKeys] ([CreationTime])');
COMMIT TRANSACTION;`;

const COLUMNS = `[Id], [ApplicationName], [JobName], [JobArgs], [TryCount], [CreationTime], [NextTryTime], [LastTryTime],
  [IsAbandoned], [Priority], [CompletionTime], [ExtraProperties], [ConcurrencyStamp]`;

const INSERT = `INSERT INTO [AbpBackgroundJobs] WITH (ROWLOCK) (${COLUMNS})
SELECT ${COLUMNS} FROM OPENJSON(@rows) WITH (
  [Id] uniqueidentifier '$.id', [ApplicationName] nvarchar(96) '$.applicationName', [JobName] nvarchar(128) '$.jobName',
  [JobArgs] nvarchar(max) '$.jobArgs', [TryCount] smallint '$.tryCount', [CreationTime] datetime2 '$.creationTime',
  [NextTryTime] datetime2 '$.nextTryTime', [LastTryTime] datetime2 '$.lastTryTime', [IsAbandoned] bit '$.isAbandoned',
  [Priority] tinyint '$.priority', [CompletionTime] datetime2 '$.completionTime', [ExtraProperties] nvarchar(max) '$.extraProperties',
  [ConcurrencyStamp] nvarchar(40) '$.concurrencyStamp')`;

/** Ours, beside ABP's (see enqueue-keys.ts); MIGRATE makes the table. */
const INSERT_ENQUEUE_KEYS = `INSERT INTO [AbpBackgroundJobEnqueueKeys] WITH (ROWLOCK) ([Id], [Fingerprint], [CreationTime])
SELECT [Id], [Fingerprint], @creationTime FROM OPENJSON(@keys) WITH ([Id] uniqueidentifier '$.id', [Fingerprint] nvarchar(64) '$.fingerprint');`;

/**
 * TOP with ORDER BY only in a SELECT, so the CTE picks the rows and the UPDATE goes through it.
 * UPDLOCK+ROWLOCK hold just the picked rows, READPAST skips rows other claims hold, and
 * READCOMMITTEDLOCK keeps READPAST working where READ_COMMITTED_SNAPSHOT is on. TryCount stops
 * at its smallint top: one more is an arithmetic overflow that fails the claim for every row.
 * Names compare as bytes too: the collation ignores trailing spaces (and usually case), and a
 * worker must leave look-alike names alone.
 */
const claim = (appNameClause: string) => `WITH [due] AS (
  SELECT TOP (@limit) * FROM [AbpBackgroundJobs] WITH (UPDLOCK, READPAST, ROWLOCK, READCOMMITTEDLOCK)
  WHERE ${appNameClause} AND [CompletionTime] IS NULL AND [IsAbandoned] = 0 AND [NextTryTime] <= @now
    AND [JobName] IN (SELECT [name] FROM OPENJSON(@jobNames) WITH ([name] nvarchar(128) '$'))
    AND CAST([JobName] AS varbinary(256)) IN (SELECT CAST([name] AS varbinary(256)) FROM OPENJSON(@jobNames) WITH ([name] nvarchar(128) '$'))
  ORDER BY [Priority] DESC, [TryCount], [NextTryTime])
UPDATE [due]
SET [TryCount] = CASE WHEN [TryCount] < ${MAX_TRY_COUNT} THEN [TryCount] + 1 ELSE [TryCount] END, [LastTryTime] = @now, [NextTryTime] = @leaseUntil, [ConcurrencyStamp] = @leaseToken
OUTPUT inserted.*, CASE WHEN deleted.[ConcurrencyStamp] LIKE N'${LEASE_STAMP_LIKE}' THEN CAST(1 AS bit) ELSE CAST(0 AS bit) END AS [PreviousLeaseExpired], deleted.[NextTryTime] AS [DueTime];`;
const CLAIM_FOR_APP = claim('[ApplicationName] = @applicationName');
const CLAIM_FOR_NULL_APP = claim('[ApplicationName] IS NULL');

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

const EXTEND = `UPDATE [AbpBackgroundJobs] WITH (ROWLOCK) SET [NextTryTime] = @until WHERE ${IDS} AND [ConcurrencyStamp] = @leaseToken;`;

const RELEASE = `UPDATE [AbpBackgroundJobs] WITH (ROWLOCK)
SET [NextTryTime] = @now, [ConcurrencyStamp] = @newStamp,
    [TryCount] = CASE WHEN @undoTry = 1 AND [TryCount] > 0 THEN [TryCount] - 1 ELSE [TryCount] END
WHERE ${IDS} AND [ConcurrencyStamp] = @leaseToken;`;

const FIND_ENQUEUE_KEYS = `SELECT [Id], [Fingerprint] FROM [AbpBackgroundJobEnqueueKeys] WHERE ${IDS};`;
/** At most @limit keys; the caller keeps it under lock escalation's 5,000 rows. */
const DELETE_ENQUEUE_KEYS_BEFORE = `DELETE TOP (@limit) FROM [AbpBackgroundJobEnqueueKeys] WITH (ROWLOCK) WHERE [CreationTime] < @before;`;

const FIND = 'SELECT * FROM [AbpBackgroundJobs] WHERE [Id] = @id;';
const COUNT: Record<CountScope, string> = {
  all: 'SELECT COUNT(*) AS [n] FROM [AbpBackgroundJobs];',
  noApplication: 'SELECT COUNT(*) AS [n] FROM [AbpBackgroundJobs] WHERE [ApplicationName] IS NULL;',
  application: 'SELECT COUNT(*) AS [n] FROM [AbpBackgroundJobs] WHERE [ApplicationName] = @applicationName;',
};
/**
 * The claim's due-row filter without its job names; the dequeue index includes JobName, so it
 * can answer without reading the table. Grouped by the name's bytes: SQL Server compares strings with trailing spaces ignored
 * ('Job' = 'Job ') and, under the usual _CI_ collations, case too. Every name in a group is the
 * same bytes, so MIN gives it back as stored.
 */
const dueByJobName = (
  appNameClause: string,
) => `SELECT TOP (@limit) MIN([JobName]) AS [jobName], COUNT(*) AS [n] FROM [AbpBackgroundJobs]
WHERE ${appNameClause} AND [CompletionTime] IS NULL AND [IsAbandoned] = 0 AND [NextTryTime] <= @now
GROUP BY CAST([JobName] AS varbinary(256))
ORDER BY COUNT(*) DESC, CAST([JobName] AS varbinary(256));`;
const DUE_BY_JOB_NAME_FOR_APP = dueByJobName('[ApplicationName] = @applicationName');
const DUE_BY_JOB_NAME_FOR_NULL_APP = dueByJobName('[ApplicationName] IS NULL');
/**
 * The same filter; TOP (1) ... ORDER BY [NextTryTime] on ABP's index (ApplicationName,
 * CompletionTime, IsAbandoned, NextTryTime), every column before NextTryTime fixed: one seek.
 */
const oldestDue = (appNameClause: string) => `SELECT TOP (1) [NextTryTime] AS [oldest] FROM [AbpBackgroundJobs]
WHERE ${appNameClause} AND [CompletionTime] IS NULL AND [IsAbandoned] = 0 AND [NextTryTime] <= @now
ORDER BY [NextTryTime];`;
const OLDEST_DUE_FOR_APP = oldestDue('[ApplicationName] = @applicationName');
const OLDEST_DUE_FOR_NULL_APP = oldestDue('[ApplicationName] IS NULL');
const PING = 'SELECT 1;';

export class MssqlBackgroundJobStore implements BackgroundJobStore {
  readonly dialect = 'sqlserver' as const;

  constructor(private readonly sql: SqlRunner) {}

  async migrate(): Promise<void> {
    await this.sql.query(MIGRATE);
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
    await this.sql.transaction(async (tx) => {
      for (const params of keys) await tx.query(INSERT_ENQUEUE_KEYS, params);
      for (const params of rows) await tx.query(INSERT, params);
    });
  }

  async insert(rows: BackgroundJobRecord[]): Promise<void> {
    const parts = insertParams(rows);
    if (parts.length === 1) {
      await this.sql.query(INSERT, parts[0]);
      return;
    }
    await this.sql.transaction(async (tx) => {
      for (const params of parts) await tx.query(INSERT, params);
    });
  }

  async claim(request: ClaimRequest): Promise<ClaimedJob[]> {
    if (request.jobNames.length === 0 || request.limit <= 0) return [];
    const params: SqlParam[] = [
      { name: 'limit', type: 'int', value: Math.min(request.limit, MAX_CLAIM_ROWS) },
      { name: 'now', type: 'datetime2', value: request.now },
      nvarcharMax('jobNames', JSON.stringify(request.jobNames)),
      { name: 'leaseUntil', type: 'datetime2', value: request.leaseUntil },
      { name: 'leaseToken', type: 'nvarchar(40)', value: request.leaseToken },
    ];
    const { rows } =
      request.applicationName === null
        ? await this.write(CLAIM_FOR_NULL_APP, params)
        : await this.write(CLAIM_FOR_APP, [
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
    const { rows } = await this.sql.query(FIND, [{ name: 'id', type: 'uniqueidentifier', value: id }]);
    return rows[0] && recordFromRow(rows[0]);
  }

  async count(applicationName?: string | null): Promise<number> {
    const scope = countScope(applicationName);
    const params: SqlParam[] =
      scope === 'application' ? [{ name: 'applicationName', type: 'nvarchar(96)', value: applicationName }] : [];
    const { rows } = await this.sql.query(COUNT[scope], params);
    return Number(rows[0].n);
  }

  async countDueByJobName(applicationName: string | null, now: Date): Promise<JobNameCount[]> {
    const params: SqlParam[] = [
      { name: 'limit', type: 'int', value: MAX_DUE_JOB_NAMES },
      { name: 'now', type: 'datetime2', value: now },
    ];
    const { rows } =
      applicationName === null
        ? await this.sql.query(DUE_BY_JOB_NAME_FOR_NULL_APP, params)
        : await this.sql.query(DUE_BY_JOB_NAME_FOR_APP, [
            ...params,
            { name: 'applicationName', type: 'nvarchar(96)', value: applicationName },
          ]);
    return rows.map((r) => ({ jobName: r.jobName as string, count: Number(r.n) }));
  }

  async oldestDueTime(applicationName: string | null, now: Date): Promise<Date | null> {
    const params: SqlParam[] = [{ name: 'now', type: 'datetime2', value: now }];
    const { rows } =
      applicationName === null
        ? await this.sql.query(OLDEST_DUE_FOR_NULL_APP, params)
        : await this.sql.query(OLDEST_DUE_FOR_APP, [
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

import { MAX_CLAIM_ROWS, MssqlBackgroundJobStore } from './mssql.dialect';
import { SqlParam, SqlResult, SqlRunner } from './mssql-runner';
import { BackgroundJobRecord } from '../background-job-record';
import { MAX_DUE_JOB_NAMES } from '../background-job-store';

/**
 * No SQL Server runs here, so these tests pin what the dialect sends one: each statement's text
 * (whitespace aside) and each parameter's name, SQL type and value. The contract suite runs the
 * same statements on a real server when MSSQL_CONNECTION_STRING is set.
 */
interface RecordedCall {
  sql: string;
  params: SqlParam[];
  inTransaction: boolean;
}

class RecordingSqlRunner implements SqlRunner {
  readonly calls: RecordedCall[] = [];
  readonly transactions: string[] = [];
  private readonly replies: Array<SqlResult | Error> = [];
  private inTransaction = false;

  reply(...replies: Array<Partial<SqlResult> | Error>): this {
    for (const r of replies) this.replies.push(r instanceof Error ? r : { rows: [], rowsAffected: 0, ...r });
    return this;
  }

  async query(sql: string, params: SqlParam[] = []): Promise<SqlResult> {
    this.calls.push({ sql: oneLine(sql), params, inTransaction: this.inTransaction });
    const reply = this.replies.shift() ?? { rows: [], rowsAffected: 0 };
    if (reply instanceof Error) throw reply;
    return reply;
  }

  async transaction<T>(work: (runner: SqlRunner) => Promise<T>): Promise<T> {
    this.inTransaction = true;
    try {
      const result = await work(this);
      this.transactions.push('committed');
      return result;
    } catch (error) {
      this.transactions.push('rolled back');
      throw error;
    } finally {
      this.inTransaction = false;
    }
  }
}

const oneLine = (sql: string) => sql.replace(/\s+/g, ' ').trim();

const T0 = new Date('2030-06-15T12:00:00.000Z');
const LEASE = 'lease:0123456789abcdef0123456789abcdef';
const ID1 = '3f2c9a4e-8d1b-4c7e-9a55-0b6e1d2f4a11';
const ID2 = 'a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d';

function record(overrides: Partial<BackgroundJobRecord> = {}): BackgroundJobRecord {
  return {
    id: ID1,
    applicationName: null,
    jobName: 'MyReportJobArgs',
    jobArgs: '{"content":"x"}',
    tryCount: 0,
    creationTime: T0,
    nextTryTime: T0,
    lastTryTime: null,
    isAbandoned: false,
    priority: 15,
    completionTime: null,
    extraProperties: '{}',
    concurrencyStamp: '0123456789abcdef0123456789abcdef',
    ...overrides,
  };
}

/** A row as tedious returns it: upper-case uniqueidentifier, Dates, booleans for bit. */
function serverRow(overrides: Record<string, unknown> = {}) {
  return {
    Id: ID1.toUpperCase(),
    ApplicationName: null,
    JobName: 'MyReportJobArgs',
    JobArgs: '{"content":"x"}',
    TryCount: 1,
    CreationTime: T0,
    NextTryTime: new Date(T0.getTime() + 60_000),
    LastTryTime: T0,
    IsAbandoned: false,
    Priority: 15,
    CompletionTime: null,
    ExtraProperties: '{}',
    ConcurrencyStamp: LEASE,
    PreviousLeaseExpired: false,
    ...overrides,
  };
}

const IDS = "[Id] IN (SELECT [Id] FROM OPENJSON(@ids) WITH ([Id] uniqueidentifier '$'))";

const CLAIM_FOR_APP =
  'WITH [due] AS ( SELECT TOP (@limit) * FROM [AbpBackgroundJobs] WITH (UPDLOCK, READPAST, ROWLOCK, READCOMMITTEDLOCK) ' +
  'WHERE [ApplicationName] = @applicationName AND [CompletionTime] IS NULL AND [IsAbandoned] = 0 AND [NextTryTime] <= @now ' +
  "AND [JobName] IN (SELECT [name] FROM OPENJSON(@jobNames) WITH ([name] nvarchar(128) '$')) " +
  "AND CAST([JobName] AS varbinary(256)) IN (SELECT CAST([name] AS varbinary(256)) FROM OPENJSON(@jobNames) WITH ([name] nvarchar(128) '$')) " +
  'ORDER BY [Priority] DESC, [TryCount], [NextTryTime]) ' +
  'UPDATE [due] SET [TryCount] = CASE WHEN [TryCount] < 32767 THEN [TryCount] + 1 ELSE [TryCount] END, [LastTryTime] = @now, [NextTryTime] = @leaseUntil, [ConcurrencyStamp] = @leaseToken ' +
  "OUTPUT inserted.*, CASE WHEN deleted.[ConcurrencyStamp] LIKE N'lease:%' THEN CAST(1 AS bit) ELSE CAST(0 AS bit) END AS [PreviousLeaseExpired], deleted.[NextTryTime] AS [DueTime];";

describe('MssqlBackgroundJobStore: the statements it sends', () => {
  let sql: RecordingSqlRunner;
  let store: MssqlBackgroundJobStore;
  beforeEach(() => {
    sql = new RecordingSqlRunner();
    store = new MssqlBackgroundJobStore(sql);
  });

  describe('migrate', () => {
    it("creates ABP's table and indexes, and the enqueue keys table beside it, in one batch, serialised by a transaction-owned applock", async () => {
      await store.migrate();
      expect(sql.calls).toHaveLength(1);
      const [{ sql: batch, params }] = sql.calls;
      expect(params).toEqual([]);
      expect(batch).toBe(
        oneLine(`SET XACT_ABORT ON;
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
  EXEC(N'CREATE INDEX [IX_AbpBackgroundJobs_Dequeue] ON [AbpBackgroundJobs]
  ([ApplicationName], [CompletionTime], [IsAbandoned], [Priority] DESC, [TryCount], [NextTryTime]) INCLUDE ([JobName], [ConcurrencyStamp])');
IF OBJECT_ID(N'[AbpBackgroundJobEnqueueKeys]', N'U') IS NULL
  CREATE TABLE [AbpBackgroundJobEnqueueKeys] (
    [Id] uniqueidentifier NOT NULL,
    [Fingerprint] nvarchar(64) NOT NULL,
    [CreationTime] datetime2 NOT NULL,
    CONSTRAINT [PK_AbpBackgroundJobEnqueueKeys] PRIMARY KEY ([Id])
  );
IF INDEXPROPERTY(OBJECT_ID(N'[AbpBackgroundJobEnqueueKeys]'), N'IX_AbpBackgroundJobEnqueueKeys_CreationTime', 'IndexID') IS NULL
  EXEC(N'CREATE INDEX [IX_AbpBackgroundJobEnqueueKeys_CreationTime] ON [AbpBackgroundJobEnqueueKeys] ([CreationTime])');
COMMIT TRANSACTION;`),
      );
    });
  });

  describe('insert', () => {
    const INSERT =
      'INSERT INTO [AbpBackgroundJobs] WITH (ROWLOCK) ([Id], [ApplicationName], [JobName], [JobArgs], [TryCount], [CreationTime], ' +
      '[NextTryTime], [LastTryTime], [IsAbandoned], [Priority], [CompletionTime], [ExtraProperties], [ConcurrencyStamp]) ' +
      'SELECT [Id], [ApplicationName], [JobName], [JobArgs], [TryCount], [CreationTime], [NextTryTime], [LastTryTime], ' +
      '[IsAbandoned], [Priority], [CompletionTime], [ExtraProperties], [ConcurrencyStamp] FROM OPENJSON(@rows) WITH ( ' +
      "[Id] uniqueidentifier '$.id', [ApplicationName] nvarchar(96) '$.applicationName', [JobName] nvarchar(128) '$.jobName', " +
      "[JobArgs] nvarchar(max) '$.jobArgs', [TryCount] smallint '$.tryCount', [CreationTime] datetime2 '$.creationTime', " +
      "[NextTryTime] datetime2 '$.nextTryTime', [LastTryTime] datetime2 '$.lastTryTime', [IsAbandoned] bit '$.isAbandoned', " +
      "[Priority] tinyint '$.priority', [CompletionTime] datetime2 '$.completionTime', [ExtraProperties] nvarchar(max) '$.extraProperties', " +
      "[ConcurrencyStamp] nvarchar(40) '$.concurrencyStamp')";

    it('sends the rows as one JSON parameter, times as language-neutral datetime2 text', async () => {
      const full = record({
        applicationName: 'app',
        tryCount: 2,
        lastTryTime: new Date('2030-06-15T11:59:00.5Z'),
        isAbandoned: true,
        priority: 25,
        completionTime: new Date('2030-06-15T12:01:02.003Z'),
      });
      await store.insert([full, record({ id: ID2 })]);
      expect(sql.calls).toEqual([
        {
          sql: INSERT,
          params: [{ name: 'rows', type: 'nvarchar(max)', value: expect.any(String) as unknown }],
          inTransaction: false,
        },
      ]);
      const sent = JSON.parse(sql.calls[0].params[0].value as string) as Array<Record<string, unknown>>;
      expect(sent[0]).toEqual({
        id: ID1,
        applicationName: 'app',
        jobName: 'MyReportJobArgs',
        jobArgs: '{"content":"x"}',
        tryCount: 2,
        creationTime: '2030-06-15 12:00:00.000',
        nextTryTime: '2030-06-15 12:00:00.000',
        lastTryTime: '2030-06-15 11:59:00.500',
        isAbandoned: true,
        priority: 25,
        completionTime: '2030-06-15 12:01:02.003',
        extraProperties: '{}',
        concurrencyStamp: '0123456789abcdef0123456789abcdef',
      });
      expect(sent[1]).toMatchObject({
        id: ID2,
        applicationName: null,
        lastTryTime: null,
        completionTime: null,
        isAbandoned: false,
      });
    });

    it('splits more than 1,000 rows into statements of 1,000 inside one transaction', async () => {
      const rows = Array.from({ length: 2500 }, (_, i) =>
        record({ id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` }),
      );
      await store.insert(rows);
      expect(
        sql.calls.map((c) => [c.sql, c.inTransaction, (JSON.parse(c.params[0].value as string) as unknown[]).length]),
      ).toEqual([
        [INSERT, true, 1000],
        [INSERT, true, 1000],
        [INSERT, true, 500],
      ]);
      expect(sql.transactions).toEqual(['committed']);
    });
  });

  describe('enqueue', () => {
    const INSERT_KEYS =
      'INSERT INTO [AbpBackgroundJobEnqueueKeys] WITH (ROWLOCK) ([Id], [Fingerprint], [CreationTime]) ' +
      "SELECT [Id], [Fingerprint], @creationTime FROM OPENJSON(@keys) WITH ([Id] uniqueidentifier '$.id', [Fingerprint] nvarchar(64) '$.fingerprint');";
    const FP = 'ab'.repeat(32);
    const batch = (keyed: boolean, count = 1) => ({
      applicationName: null,
      creationTime: T0,
      jobs: Array.from({ length: count }, (_, i) => ({
        id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        jobName: 'MyReportJobArgs',
        jobArgs: '{"content":"x"}',
        priority: 15,
        nextTryTime: T0,
        concurrencyStamp: '0123456789abcdef0123456789abcdef',
      })),
      ...(keyed
        ? {
            keys: Array.from({ length: count }, (_, i) => ({
              id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
              fingerprint: FP,
            })),
          }
        : {}),
    });

    it('sends one INSERT and no transaction for jobs without chosen ids', async () => {
      await store.enqueue(batch(false));
      expect(sql.calls.map((c) => [c.sql.startsWith('INSERT INTO [AbpBackgroundJobs]'), c.inTransaction])).toEqual([
        [true, false],
      ]);
      expect(sql.transactions).toEqual([]);
    });

    it('writes the keys, then the rows, in one transaction', async () => {
      await store.enqueue(batch(true));
      expect(sql.calls[0]).toEqual({
        sql: INSERT_KEYS,
        params: [
          {
            name: 'keys',
            type: 'nvarchar(max)',
            value: JSON.stringify([{ id: '00000000-0000-4000-8000-000000000000', fingerprint: FP }]),
          },
          { name: 'creationTime', type: 'datetime2', value: T0 },
        ],
        inTransaction: true,
      });
      expect(sql.calls.map((c) => [c.sql.startsWith('INSERT INTO [AbpBackgroundJobs]'), c.inTransaction])).toEqual([
        [false, true],
        [true, true],
      ]);
      expect(sql.transactions).toEqual(['committed']);
    });

    it('rolls the keys back when the rows cannot be written', async () => {
      sql.reply({ rowsAffected: 1 }, Object.assign(new Error('Violation of PRIMARY KEY constraint'), { number: 2627 }));
      await expect(store.enqueue(batch(true))).rejects.toMatchObject({ number: 2627 });
      expect(sql.transactions).toEqual(['rolled back']);
    });

    it('splits 1,500 keys and rows into statements of at most 1,000 inside the one transaction', async () => {
      await store.enqueue(batch(true, 1500));
      expect(
        sql.calls.map((c) => [
          c.sql === INSERT_KEYS,
          c.inTransaction,
          (JSON.parse(c.params[0].value as string) as unknown[]).length,
        ]),
      ).toEqual([
        [true, true, 1000],
        [true, true, 500],
        [false, true, 1000],
        [false, true, 500],
      ]);
      expect(sql.transactions).toEqual(['committed']);
    });
  });

  describe('enqueue keys', () => {
    it('findEnqueueKeys reads keys by uniqueidentifier, 1,000 ids per statement, and gives ids in lower case', async () => {
      const ids = Array.from({ length: 1001 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
      sql.reply(
        { rows: [{ Id: ID1.toUpperCase(), Fingerprint: 'f1' }] },
        { rows: [{ Id: ID2.toUpperCase(), Fingerprint: 'f2' }] },
      );
      expect(await store.findEnqueueKeys(ids)).toEqual([
        { id: ID1, fingerprint: 'f1' },
        { id: ID2, fingerprint: 'f2' },
      ]);
      expect(
        sql.calls.map((c) => [c.sql, c.params[0].name, (JSON.parse(c.params[0].value as string) as unknown[]).length]),
      ).toEqual([
        [`SELECT [Id], [Fingerprint] FROM [AbpBackgroundJobEnqueueKeys] WHERE ${IDS};`, 'ids', 1000],
        [`SELECT [Id], [Fingerprint] FROM [AbpBackgroundJobEnqueueKeys] WHERE ${IDS};`, 'ids', 1],
      ]);
    });

    it('deleteEnqueueKeysBefore deletes at most @limit keys older than @before and returns how many', async () => {
      sql.reply({ rowsAffected: 3 });
      expect(await store.deleteEnqueueKeysBefore(T0, 1000)).toBe(3);
      expect(sql.calls).toEqual([
        {
          sql: 'DELETE TOP (@limit) FROM [AbpBackgroundJobEnqueueKeys] WITH (ROWLOCK) WHERE [CreationTime] < @before;',
          params: [
            { name: 'limit', type: 'int', value: 1000 },
            { name: 'before', type: 'datetime2', value: T0 },
          ],
          inTransaction: false,
        },
      ]);
    });
  });

  describe('claim', () => {
    const request = {
      applicationName: 'app',
      jobNames: ['MyReportJobArgs', 'Other'],
      limit: 10,
      now: T0,
      leaseUntil: new Date(T0.getTime() + 60_000),
      leaseToken: LEASE,
    };

    it('locks due rows in dequeue order with UPDLOCK, READPAST, ROWLOCK, READCOMMITTEDLOCK and returns them through OUTPUT', async () => {
      const dueTime = new Date(T0.getTime() - 1500);
      sql.reply({
        rows: [serverRow({ ApplicationName: 'app', PreviousLeaseExpired: true, DueTime: dueTime })],
        rowsAffected: 1,
      });
      const claimed = await store.claim(request);
      expect(sql.calls).toEqual([
        {
          sql: CLAIM_FOR_APP,
          params: [
            { name: 'limit', type: 'int', value: 10 },
            { name: 'now', type: 'datetime2', value: T0 },
            { name: 'jobNames', type: 'nvarchar(max)', value: '["MyReportJobArgs","Other"]' },
            { name: 'leaseUntil', type: 'datetime2', value: request.leaseUntil },
            { name: 'leaseToken', type: 'nvarchar(40)', value: LEASE },
            { name: 'applicationName', type: 'nvarchar(96)', value: 'app' },
          ],
          inTransaction: false,
        },
      ]);
      expect(claimed).toEqual([
        {
          id: ID1,
          applicationName: 'app',
          jobName: 'MyReportJobArgs',
          jobArgs: '{"content":"x"}',
          tryCount: 1,
          creationTime: T0,
          nextTryTime: request.leaseUntil,
          lastTryTime: T0,
          isAbandoned: false,
          priority: 15,
          completionTime: null,
          extraProperties: '{}',
          concurrencyStamp: LEASE,
          leaseToken: LEASE,
          previousLeaseExpired: true,
          dueTime,
        },
      ]);
    });

    it('matches NULL application names with IS NULL and sends no applicationName parameter', async () => {
      await store.claim({ ...request, applicationName: null });
      expect(sql.calls[0].sql).toBe(
        CLAIM_FOR_APP.replace('[ApplicationName] = @applicationName', '[ApplicationName] IS NULL'),
      );
      expect(sql.calls[0].params.map((p) => p.name)).toEqual(['limit', 'now', 'jobNames', 'leaseUntil', 'leaseToken']);
    });

    it(`never claims more than ${MAX_CLAIM_ROWS} rows in one statement, well under lock escalation's 5,000`, async () => {
      await store.claim({ ...request, limit: 5000 });
      expect(sql.calls[0].params[0]).toEqual({ name: 'limit', type: 'int', value: 1000 });
      expect(MAX_CLAIM_ROWS).toBeLessThan(5000);
    });

    it('sends nothing for no job names or a zero limit', async () => {
      expect(await store.claim({ ...request, jobNames: [] })).toEqual([]);
      expect(await store.claim({ ...request, limit: 0 })).toEqual([]);
      expect(sql.calls).toEqual([]);
    });

    it('stops TryCount at its smallint top (32767) instead of overflowing it, which would fail the claim for every row', () => {
      expect(CLAIM_FOR_APP).toContain(
        'SET [TryCount] = CASE WHEN [TryCount] < 32767 THEN [TryCount] + 1 ELSE [TryCount] END,',
      );
    });

    it('abandons a row it cannot read, fenced by Id and lease token, and returns the others', async () => {
      const unreadable = serverRow({
        Id: ID2.toUpperCase(),
        CreationTime: new Date(NaN),
        ExtraProperties: '{"TenantId":"t1"}',
      });
      sql.reply({ rows: [unreadable, serverRow()], rowsAffected: 2 }, { rowsAffected: 1 });
      const claimed = await store.claim(request);
      expect(claimed.map((j) => j.id)).toEqual([ID1]);
      expect(sql.calls[1].sql).toBe(
        'UPDATE [job] SET [IsAbandoned] = CAST(1 AS bit), [ExtraProperties] = [unreadable].[ExtraProperties], [ConcurrencyStamp] = [unreadable].[NewStamp] ' +
          'FROM [AbpBackgroundJobs] AS [job] WITH (ROWLOCK) INNER JOIN OPENJSON(@unreadable) WITH ( ' +
          "[Id] uniqueidentifier '$.id', [ExtraProperties] nvarchar(max) '$.extraProperties', [NewStamp] nvarchar(40) '$.newStamp') AS [unreadable] " +
          'ON [job].[Id] = [unreadable].[Id] AND [job].[ConcurrencyStamp] = @leaseToken;',
      );
      expect(sql.calls[1].params[1]).toEqual({ name: 'leaseToken', type: 'nvarchar(40)', value: LEASE });
      const [written] = JSON.parse(sql.calls[1].params[0].value as string) as Array<Record<string, string>>;
      expect(written.id).toBe(ID2.toUpperCase());
      expect(written.newStamp).toMatch(/^[0-9a-f]{32}$/);
      expect(JSON.parse(written.extraProperties)).toMatchObject({
        TenantId: 't1',
        LastError: 'The row cannot be read: CreationTime is not a time: an invalid date',
      });
    });

    it('releases an unreadable row when abandoning it fails, and still returns the others', async () => {
      sql.reply(
        { rows: [serverRow({ Id: ID2.toUpperCase(), JobArgs: null }), serverRow()] },
        new Error('write failed'),
        { rowsAffected: 1 },
      );
      expect((await store.claim(request)).map((j) => j.id)).toEqual([ID1]);
      expect(sql.calls[2].sql).toContain('UPDATE [AbpBackgroundJobs] WITH (ROWLOCK) SET [NextTryTime] = @now');
      expect(sql.calls[2].params[0]).toEqual({
        name: 'ids',
        type: 'nvarchar(max)',
        value: JSON.stringify([ID2.toUpperCase()]),
      });
    });

    it('runs again when chosen as a deadlock victim (1205), but not after other errors', async () => {
      sql.reply(Object.assign(new Error('deadlock'), { number: 1205 }), { rows: [serverRow()] });
      expect(await store.claim(request)).toHaveLength(1);
      expect(sql.calls).toHaveLength(2);

      const invalid = Object.assign(new Error('Invalid column name'), { number: 207 });
      sql.reply(invalid);
      await expect(store.claim(request)).rejects.toBe(invalid);
      expect(sql.calls).toHaveLength(3);
    });
  });

  describe('writes fenced by the lease token', () => {
    it('complete deletes by Id and token', async () => {
      sql.reply({ rowsAffected: 2 });
      expect(await store.complete(LEASE, [ID1, ID2])).toBe(2);
      expect(sql.calls).toEqual([
        {
          sql: `DELETE FROM [AbpBackgroundJobs] WITH (ROWLOCK) WHERE ${IDS} AND [ConcurrencyStamp] = @leaseToken;`,
          params: [
            { name: 'ids', type: 'nvarchar(max)', value: JSON.stringify([ID1, ID2]) },
            { name: 'leaseToken', type: 'nvarchar(40)', value: LEASE },
          ],
          inTransaction: false,
        },
      ]);
    });

    it('complete splits 2,500 ids into statements of at most 1,000 and adds up the counts', async () => {
      sql.reply({ rowsAffected: 1000 }, { rowsAffected: 999 }, { rowsAffected: 500 });
      const ids = Array.from({ length: 2500 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
      expect(await store.complete(LEASE, ids)).toBe(2499);
      expect(sql.calls.map((c) => (JSON.parse(c.params[0].value as string) as unknown[]).length)).toEqual([
        1000, 1000, 500,
      ]);
    });

    it('fail joins the failures, read from JSON, on Id and token', async () => {
      sql.reply({ rowsAffected: 1 });
      const retry = {
        id: ID1,
        leaseToken: LEASE,
        nextTryTime: new Date('2030-06-15T12:02:00.250Z'),
        extraProperties: '{"LastError":"boom"}',
        newStamp: 'n1',
      };
      const abandon = { id: ID2, leaseToken: LEASE, nextTryTime: null, extraProperties: '{}', newStamp: 'n2' };
      expect(await store.fail([retry, abandon])).toBe(1);
      expect(sql.calls).toEqual([
        {
          sql:
            'UPDATE [job] SET [NextTryTime] = COALESCE([failed].[NextTryTime], [job].[NextTryTime]), ' +
            '[IsAbandoned] = CASE WHEN [failed].[NextTryTime] IS NULL THEN CAST(1 AS bit) ELSE CAST(0 AS bit) END, ' +
            '[ExtraProperties] = [failed].[ExtraProperties], [ConcurrencyStamp] = [failed].[NewStamp] ' +
            'FROM [AbpBackgroundJobs] AS [job] WITH (ROWLOCK) INNER JOIN OPENJSON(@failures) WITH ( ' +
            "[Id] uniqueidentifier '$.id', [LeaseToken] nvarchar(40) '$.leaseToken', [NextTryTime] datetime2 '$.nextTryTime', " +
            "[ExtraProperties] nvarchar(max) '$.extraProperties', [NewStamp] nvarchar(40) '$.newStamp') AS [failed] " +
            'ON [job].[Id] = [failed].[Id] AND [job].[ConcurrencyStamp] = [failed].[LeaseToken];',
          params: [
            {
              name: 'failures',
              type: 'nvarchar(max)',
              value: JSON.stringify([
                {
                  id: ID1,
                  leaseToken: LEASE,
                  nextTryTime: '2030-06-15 12:02:00.250',
                  extraProperties: '{"LastError":"boom"}',
                  newStamp: 'n1',
                },
                { id: ID2, leaseToken: LEASE, nextTryTime: null, extraProperties: '{}', newStamp: 'n2' },
              ]),
            },
          ],
          inTransaction: false,
        },
      ]);
    });

    it('extendLeases moves NextTryTime by Id and token', async () => {
      sql.reply({ rowsAffected: 1 });
      const until = new Date('2030-06-15T12:05:00Z');
      expect(await store.extendLeases(LEASE, [ID1], until)).toBe(1);
      expect(sql.calls).toEqual([
        {
          sql: `UPDATE [AbpBackgroundJobs] WITH (ROWLOCK) SET [NextTryTime] = @until WHERE ${IDS} AND [ConcurrencyStamp] = @leaseToken;`,
          params: [
            { name: 'ids', type: 'nvarchar(max)', value: `["${ID1}"]` },
            { name: 'leaseToken', type: 'nvarchar(40)', value: LEASE },
            { name: 'until', type: 'datetime2', value: until },
          ],
          inTransaction: false,
        },
      ]);
    });

    it('release makes rows due under a new stamp, taking the try back only with undoTry', async () => {
      sql.reply({ rowsAffected: 1 });
      expect(await store.release({ leaseToken: LEASE, ids: [ID1], now: T0, newStamp: 'fresh', undoTry: true })).toBe(1);
      expect(sql.calls).toEqual([
        {
          sql:
            'UPDATE [AbpBackgroundJobs] WITH (ROWLOCK) SET [NextTryTime] = @now, [ConcurrencyStamp] = @newStamp, ' +
            '[TryCount] = CASE WHEN @undoTry = 1 AND [TryCount] > 0 THEN [TryCount] - 1 ELSE [TryCount] END ' +
            `WHERE ${IDS} AND [ConcurrencyStamp] = @leaseToken;`,
          params: [
            { name: 'ids', type: 'nvarchar(max)', value: `["${ID1}"]` },
            { name: 'leaseToken', type: 'nvarchar(40)', value: LEASE },
            { name: 'now', type: 'datetime2', value: T0 },
            { name: 'newStamp', type: 'nvarchar(40)', value: 'fresh' },
            { name: 'undoTry', type: 'bit', value: true },
          ],
          inTransaction: false,
        },
      ]);
    });
  });

  describe('reads', () => {
    it('find reads one row by uniqueidentifier and gives its Id in lower case', async () => {
      sql.reply({ rows: [serverRow()] }, { rows: [] });
      expect((await store.find(ID1.toUpperCase()))?.id).toBe(ID1);
      expect(await store.find(ID2)).toBeUndefined();
      expect(sql.calls[0]).toEqual({
        sql: 'SELECT * FROM [AbpBackgroundJobs] WHERE [Id] = @id;',
        params: [{ name: 'id', type: 'uniqueidentifier', value: ID1.toUpperCase() }],
        inTransaction: false,
      });
    });

    it('count reads all rows, NULL-application rows, or one application', async () => {
      sql.reply({ rows: [{ n: 7 }] }, { rows: [{ n: 3 }] }, { rows: [{ n: 2 }] });
      expect([await store.count(), await store.count(null), await store.count('app')]).toEqual([7, 3, 2]);
      expect(sql.calls.map((c) => [c.sql, c.params])).toEqual([
        ['SELECT COUNT(*) AS [n] FROM [AbpBackgroundJobs];', []],
        ['SELECT COUNT(*) AS [n] FROM [AbpBackgroundJobs] WHERE [ApplicationName] IS NULL;', []],
        [
          'SELECT COUNT(*) AS [n] FROM [AbpBackgroundJobs] WHERE [ApplicationName] = @applicationName;',
          [{ name: 'applicationName', type: 'nvarchar(96)', value: 'app' }],
        ],
      ]);
    });

    it('countDueByJobName groups due rows by the bytes of JobName, so trailing spaces and case stay apart', async () => {
      sql.reply(
        {
          rows: [
            { jobName: 'MyReportJobArgs ', n: 2 },
            { jobName: 'Old', n: 1 },
          ],
        },
        { rows: [] },
      );
      expect(await store.countDueByJobName('app', T0)).toEqual([
        { jobName: 'MyReportJobArgs ', count: 2 },
        { jobName: 'Old', count: 1 },
      ]);
      expect(await store.countDueByJobName(null, T0)).toEqual([]);
      const dueByJobName = (appNameClause: string) =>
        'SELECT TOP (@limit) MIN([JobName]) AS [jobName], COUNT(*) AS [n] FROM [AbpBackgroundJobs] ' +
        `WHERE ${appNameClause} AND [CompletionTime] IS NULL AND [IsAbandoned] = 0 AND [NextTryTime] <= @now ` +
        'GROUP BY CAST([JobName] AS varbinary(256)) ORDER BY COUNT(*) DESC, CAST([JobName] AS varbinary(256));';
      const params = [
        { name: 'limit', type: 'int', value: MAX_DUE_JOB_NAMES },
        { name: 'now', type: 'datetime2', value: T0 },
      ];
      expect(sql.calls).toEqual([
        {
          sql: dueByJobName('[ApplicationName] = @applicationName'),
          params: [...params, { name: 'applicationName', type: 'nvarchar(96)', value: 'app' }],
          inTransaction: false,
        },
        { sql: dueByJobName('[ApplicationName] IS NULL'), params, inTransaction: false },
      ]);
    });

    it('oldestDueTime reads the first due NextTryTime in the order of ABP index, with TOP (1)', async () => {
      const oldest = new Date(T0.getTime() - 90_000);
      sql.reply({ rows: [{ oldest }] }, { rows: [] });
      expect(await store.oldestDueTime('app', T0)).toEqual(oldest);
      expect(await store.oldestDueTime(null, T0)).toBeNull();
      const oldestDue = (appNameClause: string) =>
        'SELECT TOP (1) [NextTryTime] AS [oldest] FROM [AbpBackgroundJobs] ' +
        `WHERE ${appNameClause} AND [CompletionTime] IS NULL AND [IsAbandoned] = 0 AND [NextTryTime] <= @now ` +
        'ORDER BY [NextTryTime];';
      const now = { name: 'now', type: 'datetime2', value: T0 };
      expect(sql.calls).toEqual([
        {
          sql: oldestDue('[ApplicationName] = @applicationName'),
          params: [now, { name: 'applicationName', type: 'nvarchar(96)', value: 'app' }],
          inTransaction: false,
        },
        { sql: oldestDue('[ApplicationName] IS NULL'), params: [now], inTransaction: false },
      ]);
    });

    it('ping sends one constant query that reads no table, and passes a failure on', async () => {
      sql.reply({ rows: [{ '': 1 }] }, Object.assign(new Error('Failed to connect'), { code: 'ESOCKET' }));
      await expect(store.ping()).resolves.toBeUndefined();
      await expect(store.ping()).rejects.toMatchObject({ code: 'ESOCKET' });
      expect(sql.calls.map((c) => [c.sql, c.params])).toEqual([
        ['SELECT 1;', []],
        ['SELECT 1;', []],
      ]);
    });
  });

  describe('isUnavailable', () => {
    const error = (fields: Record<string, unknown>) => Object.assign(new Error('x'), fields);

    it.each([
      ['a refused or broken socket (ConnectionError ESOCKET)', error({ code: 'ESOCKET' })],
      ['a login timeout (ETIMEOUT)', error({ code: 'ETIMEOUT' })],
      ['a connection closed under a request (ECONNCLOSED)', error({ code: 'ECONNCLOSED' })],
      ['a closed pool (ENOTOPEN)', error({ code: 'ENOTOPEN' })],
      [
        "tedious's cause under mssql's wrapper",
        error({ code: 'EREQUEST', originalError: error({ code: 'ECONNRESET' }) }),
      ],
      ['a database that is not available (4060)', error({ code: 'EREQUEST', number: 4060 })],
      ['Azure SQL busy (40501)', error({ code: 'EREQUEST', number: 40501 })],
    ])('is true for %s', (_what, e) => expect(store.isUnavailable(e)).toBe(true));

    it.each([
      ['a duplicate key (2627)', error({ code: 'EREQUEST', number: 2627 })],
      ['a deadlock victim (1205), retried instead', error({ code: 'EREQUEST', number: 1205 })],
      ['a failed login (ELOGIN)', error({ code: 'ELOGIN' })],
      ['anything else', new Error('boom')],
      ['undefined', undefined],
    ])('is false for %s', (_what, e) => expect(store.isUnavailable(e)).toBe(false));
  });
});

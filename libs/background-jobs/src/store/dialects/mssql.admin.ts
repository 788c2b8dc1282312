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
import { countStatesBounded, scaleSample } from '../state-counts';
import { perShape, TableShape, TableShapeCache } from '../table-shape';
import { LEASE_STAMP_LIKE } from './dialect-helpers';
import { SqlParam, SqlRunner } from './mssql-runner';

/**
 * SQL Server's side of the management service (see job-admin-store.ts). Four filtered indexes of
 * ours split the table, each row in exactly one: new (live, TryCount 0), tried (live, TryCount
 * >= 1), abandoned, completed; they include ConcurrencyStamp, so the lease test needs no lookup
 * (a filtered index cannot hold a LIKE, so leased rows are not an index of their own as on
 * PostgreSQL). Lists are ordered seeks of one or two of them. Ids travel as one JSON parameter;
 * times of a cursor as text (datetime2 keeps 100 ns, a JS Date 1 ms). Big tables: sampled with
 * TABLESAMPLE SYSTEM, whose percentage is a literal (the grammar takes a constant).
 */
const LEASED = `[ConcurrencyStamp] LIKE N'${LEASE_STAMP_LIKE}'`;
const HELD = `(${LEASED} AND [NextTryTime] > @now)`;

/** Live rows (neither completed nor abandoned) in a table of this shape. */
export function mssqlLiveRows(shape: TableShape): string {
  return `${shape.completionTime ? '[CompletionTime] IS NULL AND ' : ''}[IsAbandoned] = 0`;
}

/** An index of ours on ABP's table: its key columns (a DESC one as `Name DESC`), included columns and filter. */
export interface MssqlIndex {
  name: string;
  keys: string[];
  include: string[];
  where?: string;
}

type IndexName = 'New' | 'Tried' | 'Abandoned' | 'Completed';

/** Ours, beside ABP's, made by mssql.schema.ts: the state indexes for a table of this shape (without CompletionTime, no Completed index). */
export const mssqlStateIndexes = perShape((shape: TableShape): MssqlIndex[] => {
  const live = mssqlLiveRows(shape);
  const indexes: Array<Omit<MssqlIndex, 'name'> & { name: IndexName }> = [
    {
      name: 'New',
      keys: ['NextTryTime', 'Id'],
      include: ['ConcurrencyStamp', 'JobName'],
      where: `${live} AND [TryCount] = 0`,
    },
    {
      name: 'Tried',
      keys: ['NextTryTime', 'Id'],
      include: ['ConcurrencyStamp', 'JobName'],
      where: `${live} AND [TryCount] > 0`,
    },
    {
      name: 'Abandoned',
      keys: ['CreationTime', 'Id'],
      include: ['JobName'],
      where: `${shape.completionTime ? '[CompletionTime] IS NULL AND ' : ''}[IsAbandoned] = 1`,
    },
    ...(shape.completionTime
      ? [
          {
            name: 'Completed' as const,
            keys: ['CompletionTime', 'Id'],
            include: ['JobName'],
            where: '[CompletionTime] IS NOT NULL',
          },
        ]
      : []),
  ];
  return indexes.map((index) => ({ ...index, name: `IX_AbpBackgroundJobs_${index.name}` }));
});

/** Ours, beside ABP's: the workers' heartbeat table, in MssqlBackgroundJobStore's migration batch (inside its transaction and applock). */
export const MSSQL_ADMIN_MIGRATION = `IF OBJECT_ID(N'[AbpBackgroundJobWorkers]', N'U') IS NULL
  CREATE TABLE [AbpBackgroundJobWorkers] (
    [Id] uniqueidentifier NOT NULL,
    [Host] nvarchar(256) NOT NULL,
    [Pid] int NOT NULL,
    [ApplicationName] nvarchar(96) NULL,
    [JobNames] nvarchar(max) NOT NULL,
    [MaxParallel] int NOT NULL,
    [Running] int NOT NULL,
    [StartedAt] datetime2 NOT NULL,
    [LastHeartbeat] datetime2 NOT NULL,
    CONSTRAINT [PK_AbpBackgroundJobWorkers] PRIMARY KEY ([Id])
  );`;

const IDS = `[Id] IN (SELECT [Id] FROM OPENJSON(@ids) WITH ([Id] uniqueidentifier '$'))`;
/**
 * The actions OUTPUT the ids they changed INTO a table variable, then SELECT it: OUTPUT without
 * INTO fails (error 334) when the table has an enabled trigger, such as an audit trigger a DBA adds.
 */
const DONE = 'DECLARE @done TABLE ([Id] uniqueidentifier NOT NULL);';
const SELECT_DONE = 'SELECT [Id] FROM @done;';

/** The management service's statements for a table of this shape, built once per shape. */
const statementsFor = perShape((shape: TableShape) => {
  const where = Object.fromEntries(
    mssqlStateIndexes(shape).map((i) => [i.name.replace('IX_AbpBackgroundJobs_', ''), i.where]),
  ) as Record<IndexName, string>;
  const part = (index: IndexName, extra = '') => ({ index, where: where[index] + (extra ? ` AND ${extra}` : '') });
  const branches: Record<JobState, Array<{ index: IndexName; where: string }>> = {
    // A row due now is not held (a live lease ends after now), whatever its stamp.
    waiting: [part('New', '[NextTryTime] <= @now')],
    scheduled: [part('New', `[NextTryTime] > @now AND NOT ${LEASED}`)],
    retrying: [part('Tried', `NOT ${HELD}`)],
    processing: [
      part('New', `[NextTryTime] > @now AND ${LEASED}`),
      part('Tried', `[NextTryTime] > @now AND ${LEASED}`),
    ],
    abandoned: [part('Abandoned')],
    succeeded: shape.completionTime ? [part('Completed')] : [],
  };
  const stateOf = `CASE ${shape.completionTime ? "WHEN [CompletionTime] IS NOT NULL THEN N'succeeded' " : ''}WHEN [IsAbandoned] = 1 THEN N'abandoned'
  WHEN ${HELD} THEN N'processing' WHEN [TryCount] >= 1 THEN N'retrying'
  WHEN [NextTryTime] > @now THEN N'scheduled' ELSE N'waiting' END`;
  /** Grouped by the name's bytes (the collation ignores trailing spaces and usually case); MIN gives each back as stored. */
  const countAll = (from: string) => `SELECT MIN([JobName]) AS [jobName], [state], COUNT(*) AS [n]
FROM (SELECT [JobName], ${stateOf} AS [state] FROM ${from}) AS [rows]
GROUP BY CAST([JobName] AS varbinary(256)), [state];`;
  const notCompleted = shape.completionTime ? '[CompletionTime] IS NULL AND ' : '';
  const failedPerMinute = `SELECT CONVERT(nvarchar(16), [LastTryTime], 120) AS [minute], 0 AS [succeeded], 1 AS [failed] FROM [AbpBackgroundJobs]
  WHERE ${notCompleted}[LastTryTime] >= @since AND ([IsAbandoned] = 1 OR [TryCount] >= 1) AND NOT ${HELD}`;
  return {
    branches,
    countAll,
    /** The columns a list shows: those of this table, JobArgs cut. */
    listed: `[Id], ${shape.applicationName ? '[ApplicationName], ' : ''}[JobName], LEFT([JobArgs], ${LISTED_ARGS_LENGTH}) AS [JobArgs],
  CASE WHEN DATALENGTH([JobArgs]) / 2 > ${LISTED_ARGS_LENGTH} THEN CAST(1 AS bit) ELSE CAST(0 AS bit) END AS [ArgsCut],
  [TryCount], [CreationTime], [NextTryTime], [LastTryTime], [IsAbandoned], [Priority], ${shape.completionTime ? '[CompletionTime], ' : ''}[ExtraProperties],
  [ConcurrencyStamp]`,
    read: `SELECT [Id], [TryCount], [NextTryTime], [IsAbandoned], ${shape.completionTime ? '[CompletionTime], ' : ''}[ConcurrencyStamp], [ExtraProperties]
FROM [AbpBackgroundJobs] WHERE ${IDS};`,
    /** Abandoned or retrying, not held, and still as the caller read it (its stamp). */
    requeue: `${DONE}
UPDATE [job]
SET [NextTryTime] = @now, [IsAbandoned] = CAST(0 AS bit), [TryCount] = 0,
    [ExtraProperties] = [requeued].[ExtraProperties], [ConcurrencyStamp] = [requeued].[NewStamp]
OUTPUT inserted.[Id] INTO @done
FROM [AbpBackgroundJobs] AS [job] WITH (ROWLOCK)
INNER JOIN OPENJSON(@updates) WITH (
  [Id] uniqueidentifier '$.id', [ExpectedStamp] nvarchar(40) '$.expectedStamp',
  [ExtraProperties] nvarchar(max) '$.extraProperties', [NewStamp] nvarchar(40) '$.newStamp') AS [requeued]
  ON [job].[Id] = [requeued].[Id] AND [job].[ConcurrencyStamp] = [requeued].[ExpectedStamp]
WHERE ${shape.completionTime ? '[job].[CompletionTime] IS NULL AND ' : ''}([job].[IsAbandoned] = 1 OR [job].[TryCount] >= 1)
  AND NOT ([job].[ConcurrencyStamp] LIKE N'${LEASE_STAMP_LIKE}' AND [job].[NextTryTime] > @now);
${SELECT_DONE}`,
    runNow: `${DONE}
UPDATE [AbpBackgroundJobs] WITH (ROWLOCK) SET [NextTryTime] = @now, [ConcurrencyStamp] = @newStamp
OUTPUT inserted.[Id] INTO @done
WHERE ${IDS} AND ${mssqlLiveRows(shape)} AND [TryCount] = 0 AND [NextTryTime] > @now AND NOT ${HELD};
${SELECT_DONE}`,
    /** Minutes as 'yyyy-mm-dd hh:mi' (style 120 cut to 16 characters). */
    perMinute: `SELECT [minute], SUM([succeeded]) AS [succeeded], SUM([failed]) AS [failed] FROM (
  ${
    shape.completionTime
      ? `SELECT CONVERT(nvarchar(16), [CompletionTime], 120) AS [minute], 1 AS [succeeded], 0 AS [failed] FROM [AbpBackgroundJobs]
  WHERE [CompletionTime] IS NOT NULL AND [CompletionTime] >= @since
  UNION ALL
  `
      : ''
  }${failedPerMinute}) AS [ended]
GROUP BY [minute];`,
  };
});

const TABLE_ROWS = `SELECT SUM([rows]) AS [n] FROM sys.partitions
WHERE [object_id] = OBJECT_ID(N'[AbpBackgroundJobs]') AND [index_id] IN (0, 1);`;
const ROWS_UP_TO =
  'SELECT COUNT(*) AS [n] FROM (SELECT TOP (@limit) 1 AS [row] FROM [AbpBackgroundJobs]) AS [bounded];';
/** About this many rows are read to estimate a big table's counts. */
const SAMPLE_ROWS = 30_000;
const countState = (where: string) => `SELECT MIN([JobName]) AS [jobName], COUNT(*) AS [n]
FROM (SELECT TOP (@limit) [JobName] FROM [AbpBackgroundJobs] WHERE ${where}) AS [bounded]
GROUP BY CAST([JobName] AS varbinary(256));`;
const DELETE = `${DONE}
DELETE FROM [AbpBackgroundJobs] WITH (ROWLOCK) OUTPUT deleted.[Id] INTO @done WHERE ${IDS} AND NOT ${HELD};
${SELECT_DONE}`;

type Row = Record<string, unknown>;

export class MssqlJobAdminStore implements JobAdminStore {
  constructor(
    private readonly sql: SqlRunner,
    private readonly table: TableShapeCache,
  ) {}

  private async statements() {
    return statementsFor(await this.table.shape());
  }

  async countStates(now: Date, exactUpTo: number): Promise<StateCount[]> {
    const at = nowParam(now);
    let tableRows = 0;
    const statements = await this.statements();
    return countStatesBounded(
      {
        rowsUpTo: async (limit) => {
          tableRows = Number((await this.rows(TABLE_ROWS, []))[0]?.n ?? 0);
          if (tableRows > 2 * limit) return limit;
          return Number((await this.rows(ROWS_UP_TO, [int('limit', limit)]))[0].n);
        },
        countAll: async () => counts(await this.rows(statements.countAll('[AbpBackgroundJobs]'), [at]), false),
        estimate: async () => {
          const percent = Math.min(100, (100 * SAMPLE_ROWS) / Math.max(tableRows, exactUpTo + 1));
          const sampled = await this.rows(
            statements.countAll(`[AbpBackgroundJobs] TABLESAMPLE SYSTEM (${percent.toFixed(6)} PERCENT)`),
            [at],
          );
          return scaleSample(sampled as Array<{ jobName: string; state: string; n: number }>, 100 / percent);
        },
        countState: (state, limit) => this.countState(statements.branches[state], at, limit),
      },
      exactUpTo,
    );
  }

  private async countState(
    branches: Array<{ where: string }>,
    at: SqlParam,
    limit: number,
  ): Promise<JobNameCount[] | undefined> {
    const found = new Map<string, number>();
    let total = 0;
    for (const branch of branches) {
      for (const r of await this.rows(countState(branch.where), [at, int('limit', limit + 1)])) {
        found.set(r.jobName as string, (found.get(r.jobName as string) ?? 0) + Number(r.n));
        total += Number(r.n);
      }
      if (total > limit) return undefined;
    }
    return [...found].map(([jobName, count]) => ({ jobName, count }));
  }

  async list(request: AdminListRequest): Promise<ListedJob[]> {
    const shape = await this.table.shape();
    const statements = statementsFor(shape);
    const branches = statements.branches[request.state];
    if (branches.length === 0) return [];
    const { column, descending } = LIST_ORDER[request.state];
    const [past, direction] = descending ? ['<', 'DESC'] : ['>', 'ASC'];
    const params: SqlParam[] = [nowParam(request.now), int('limit', request.limit)];
    const filters: string[] = [];
    if (request.jobName !== undefined) {
      filters.push('[JobName] = @jobName AND CAST([JobName] AS varbinary(256)) = CAST(@jobName AS varbinary(256))');
      params.push({ name: 'jobName', type: 'nvarchar(128)', value: request.jobName });
    }
    // A table without ApplicationName has no application filter: every row is every application's.
    if (shape.applicationName && request.applicationName === null) filters.push('[ApplicationName] IS NULL');
    else if (shape.applicationName && request.applicationName !== undefined) {
      filters.push(
        '[ApplicationName] = @applicationName AND CAST([ApplicationName] AS varbinary(192)) = CAST(@applicationName AS varbinary(192))',
      );
      params.push({ name: 'applicationName', type: 'nvarchar(96)', value: request.applicationName });
    }
    if (request.after) {
      const time = 'CAST(@afterTime AS datetime2)';
      filters.push(`[${column}] ${past}= ${time} AND ([${column}] ${past} ${time} OR [Id] ${past} @afterId)`);
      params.push(
        { name: 'afterTime', type: 'nvarchar(27)', value: request.after.time },
        { name: 'afterId', type: 'uniqueidentifier', value: request.after.id },
      );
    }
    const order = `ORDER BY [${column}] ${direction}, [Id] ${direction}`;
    const selects = branches.map(
      (branch, i) =>
        `SELECT * FROM (SELECT TOP (@limit) * FROM [AbpBackgroundJobs] WHERE ${[branch.where, ...filters].join(' AND ')} ${order}) AS [part${i}]`,
    );
    const sql = `SELECT TOP (@limit) ${statements.listed}, CONVERT(nvarchar(27), [${column}], 121) AS [SortTime], CONVERT(nvarchar(36), [Id]) AS [SortId]
FROM (${selects.join(' UNION ALL ')}) AS [page] ${order};`;
    return (await this.rows(sql, params)).map((row) => ({
      record: recordFromRow(row),
      position: { time: row.SortTime as string, id: row.SortId as string },
      jobArgsTruncated: row.ArgsCut === true,
    }));
  }

  async read(ids: string[]): Promise<JobStateRow[]> {
    return (await this.rows((await this.statements()).read, [json('ids', ids)])).map((row) => ({
      id: String(row.Id).toLowerCase(),
      tryCount: Number(row.TryCount),
      nextTryTime: row.NextTryTime as Date,
      isAbandoned: row.IsAbandoned === true,
      completionTime: (row.CompletionTime as Date | null) ?? null,
      concurrencyStamp: row.ConcurrencyStamp as string,
      extraProperties: row.ExtraProperties as string,
    }));
  }

  async requeue(updates: RequeueUpdate[], now: Date): Promise<string[]> {
    return ids(await this.rows((await this.statements()).requeue, [nowParam(now), json('updates', updates)]));
  }

  async runNow(jobIds: string[], now: Date, newStamp: string): Promise<string[]> {
    return ids(
      await this.rows((await this.statements()).runNow, [
        json('ids', jobIds),
        nowParam(now),
        { name: 'newStamp', type: 'nvarchar(40)', value: newStamp },
      ]),
    );
  }

  async delete(jobIds: string[], now: Date): Promise<string[]> {
    return ids(await this.rows(DELETE, [json('ids', jobIds), nowParam(now)]));
  }

  async history(since: Date, now: Date): Promise<HistoryCount[]> {
    const rows = await this.rows((await this.statements()).perMinute, [
      nowParam(now),
      { name: 'since', type: 'datetime2', value: since },
    ]);
    return rows
      .map((r) => ({
        minute: new Date(`${(r.minute as string).replace(' ', 'T')}:00Z`),
        succeeded: Number(r.succeeded),
        failed: Number(r.failed),
      }))
      .sort((a, b) => a.minute.getTime() - b.minute.getTime());
  }

  private async rows(sql: string, params: SqlParam[]): Promise<Row[]> {
    return (await this.sql.query(sql, params)).rows;
  }
}

function nowParam(now: Date): SqlParam {
  return { name: 'now', type: 'datetime2', value: now };
}

function int(name: string, value: number): SqlParam {
  return { name, type: 'int', value };
}

function json(name: string, value: unknown): SqlParam {
  return { name, type: 'nvarchar(max)', value: JSON.stringify(value) };
}

function counts(rows: Row[], estimated: boolean): StateCount[] {
  return rows.map((r) => ({ jobName: r.jobName as string, state: r.state as JobState, count: Number(r.n), estimated }));
}

function ids(rows: Row[]): string[] {
  return rows.map((r) => String(r.Id).toLowerCase());
}

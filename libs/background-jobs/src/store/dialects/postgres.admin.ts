import type { Pool } from 'pg';
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
import { toUtcText } from '../sql-time';
import { countStatesBounded, scaleSample } from '../state-counts';
import { perShape, TableShape, TableShapeCache } from '../table-shape';
import { LEASE_STAMP_LIKE } from './dialect-helpers';

/**
 * PostgreSQL's side of the management service (see job-admin-store.ts). Five partial indexes of
 * ours split the table by state, each row in exactly one of them (a write adds one index entry,
 * whatever the row's state), and each state's list is an ordered scan of one or two of them:
 * new (TryCount 0, no lease), tried (TryCount >= 1, no lease), leased, abandoned, completed (not on
 * a table without CompletionTime, where no row is).
 * Statements are sent unnamed (planned for their values each time): their text depends on the
 * filters, and a generic plan could not see which partial index a state's predicate matches.
 */
const TABLE = '"AbpBackgroundJobs"';
const LEASED = `"ConcurrencyStamp" LIKE '${LEASE_STAMP_LIKE}'`;
const NOT_LEASED = `"ConcurrencyStamp" NOT LIKE '${LEASE_STAMP_LIKE}'`;
/** Held by a live lease; $1 is now in every statement that uses it. */
const HELD = `(${LEASED} AND "NextTryTime" > $1::timestamp)`;
/** Where a state's branch binds now (see withNow). */
const NOW = ':now';

/** An index of ours on ABP's table: its key columns as PostgreSQL prints them, and the rows it holds. */
export interface PostgresIndex {
  name: string;
  columns: string;
  where: string;
}

/**
 * The state indexes for a table of this shape: without CompletionTime no row is completed (no
 * Completed index, and no column named), without ApplicationName nothing changes here.
 */
export const postgresStateIndexes = perShape((shape): PostgresIndex[] => {
  const { live, abandoned } = liveAndAbandoned(shape);
  const indexes = [
    { name: 'New', columns: '("NextTryTime", "Id")', where: `${live} AND "TryCount" = 0 AND ${NOT_LEASED}` },
    { name: 'Tried', columns: '("NextTryTime", "Id")', where: `${live} AND "TryCount" > 0 AND ${NOT_LEASED}` },
    { name: 'Leased', columns: '("NextTryTime", "Id")', where: `${live} AND ${LEASED}` },
    { name: 'Abandoned', columns: '("CreationTime", "Id")', where: abandoned },
    ...(shape.completionTime
      ? [{ name: 'Completed', columns: '("CompletionTime", "Id")', where: `"CompletionTime" IS NOT NULL` }]
      : []),
  ];
  return indexes.map((index) => ({ ...index, name: `IX_AbpBackgroundJobs_${index.name}` }));
});

/** Live rows (neither completed nor abandoned) and abandoned ones, in a table of this shape. */
export function liveAndAbandoned(shape: TableShape): { live: string; abandoned: string } {
  return shape.completionTime
    ? {
        live: `"CompletionTime" IS NULL AND "IsAbandoned" = FALSE`,
        abandoned: `"CompletionTime" IS NULL AND "IsAbandoned" = TRUE`,
      }
    : { live: `"IsAbandoned" = FALSE`, abandoned: `"IsAbandoned" = TRUE` };
}

/** Ours, beside ABP's: the workers' heartbeat table. Run by PostgresBackgroundJobStore.migrate(). */
export const POSTGRES_ADMIN_MIGRATION = [
  `CREATE TABLE IF NOT EXISTS "AbpBackgroundJobWorkers" (
    "Id" uuid NOT NULL,
    "Host" character varying(256) NOT NULL,
    "Pid" integer NOT NULL,
    "ApplicationName" character varying(96) NULL,
    "JobNames" text NOT NULL,
    "MaxParallel" integer NOT NULL,
    "Running" integer NOT NULL,
    "StartedAt" timestamp without time zone NOT NULL,
    "LastHeartbeat" timestamp without time zone NOT NULL,
    CONSTRAINT "PK_AbpBackgroundJobWorkers" PRIMARY KEY ("Id"))`,
];

/** The management service's statements for a table of this shape, built once per shape. */
const statementsFor = perShape((shape: TableShape) => {
  const index = Object.fromEntries(
    postgresStateIndexes(shape).map((i) => [i.name.replace('IX_AbpBackgroundJobs_', ''), i]),
  );
  const { live } = liveAndAbandoned(shape);
  /** A state's rows as the union of parts, each an ordered scan of one index (NOW: where now goes). */
  const part = (name: string, extra = '') => index[name].where + (extra ? ` AND ${extra}` : '');
  const branches: Record<JobState, string[]> = {
    waiting: [part('New', `"NextTryTime" <= ${NOW}`), part('Leased', `"TryCount" = 0 AND "NextTryTime" <= ${NOW}`)],
    scheduled: [part('New', `"NextTryTime" > ${NOW}`)],
    retrying: [part('Tried'), part('Leased', `"TryCount" > 0 AND "NextTryTime" <= ${NOW}`)],
    processing: [part('Leased', `"NextTryTime" > ${NOW}`)],
    abandoned: [part('Abandoned')],
    succeeded: shape.completionTime ? [part('Completed')] : [],
  };
  /** A row's state in SQL, in the order of admin/job-states.ts ($1 is now). */
  const stateOf = `CASE ${shape.completionTime ? `WHEN "CompletionTime" IS NOT NULL THEN 'succeeded' ` : ''}WHEN "IsAbandoned" THEN 'abandoned'
  WHEN ${HELD} THEN 'processing' WHEN "TryCount" >= 1 THEN 'retrying'
  WHEN "NextTryTime" > $1::timestamp THEN 'scheduled' ELSE 'waiting' END`;
  const notCompleted = shape.completionTime ? 'job."CompletionTime" IS NULL AND ' : '';
  const failedPerMinute = `SELECT date_trunc('minute', "LastTryTime") AS minute, 0 AS succeeded, count(*) AS failed FROM ${TABLE}
    WHERE ${shape.completionTime ? '"CompletionTime" IS NULL AND ' : ''}"LastTryTime" >= $2::timestamp AND ("IsAbandoned" OR "TryCount" >= 1) AND NOT ${HELD}
    GROUP BY 1`;
  return {
    branches,
    /** The columns a list shows: those of this table, JobArgs cut. */
    listed: `"Id", ${shape.applicationName ? '"ApplicationName", ' : ''}"JobName", left("JobArgs", ${LISTED_ARGS_LENGTH}) AS "JobArgs",
        length("JobArgs") > ${LISTED_ARGS_LENGTH} AS "ArgsCut", "TryCount", "CreationTime", "NextTryTime", "LastTryTime",
        "IsAbandoned", "Priority", ${shape.completionTime ? '"CompletionTime", ' : ''}"ExtraProperties", "ConcurrencyStamp"`,
    // Grouped in the "C" collation, byte order, whatever the column's collation.
    countAll: `SELECT "JobName" COLLATE "C" AS "jobName", ${stateOf} AS state, count(*)::int AS n
  FROM ${TABLE} GROUP BY 1, 2`,
    /** SYSTEM sampling reads whole pages chosen at random with probability $2 percent: a few hundred pages of a big table. */
    sample: `SELECT "JobName" COLLATE "C" AS "jobName", ${stateOf} AS state, count(*)::int AS n
  FROM ${TABLE} TABLESAMPLE SYSTEM ($2) GROUP BY 1, 2`,
    read: `SELECT "Id", "TryCount", "NextTryTime", "IsAbandoned", ${shape.completionTime ? '"CompletionTime", ' : ''}"ConcurrencyStamp", "ExtraProperties"
  FROM ${TABLE} WHERE "Id" = ANY($1::uuid[])`,
    /** Abandoned or retrying, not held, and still as the caller read it (its stamp). */
    requeue: `UPDATE ${TABLE} AS job
  SET "NextTryTime" = $1::timestamp, "IsAbandoned" = FALSE, "TryCount" = 0, "ExtraProperties" = requeued.extra_properties,
    "ConcurrencyStamp" = requeued.new_stamp
  FROM unnest($2::uuid[], $3::varchar[], $4::text[], $5::varchar[]) AS requeued(id, expected_stamp, extra_properties, new_stamp)
  WHERE job."Id" = requeued.id AND job."ConcurrencyStamp" = requeued.expected_stamp
    AND ${notCompleted}(job."IsAbandoned" OR job."TryCount" >= 1)
    AND NOT (job."ConcurrencyStamp" LIKE '${LEASE_STAMP_LIKE}' AND job."NextTryTime" > $1::timestamp)
  RETURNING job."Id"`,
    runNow: `UPDATE ${TABLE} SET "NextTryTime" = $1::timestamp, "ConcurrencyStamp" = $3
  WHERE "Id" = ANY($2::uuid[]) AND ${live} AND "TryCount" = 0 AND "NextTryTime" > $1::timestamp AND NOT ${HELD}
  RETURNING "Id"`,
    perMinute: `SELECT minute::text AS minute, sum(succeeded)::int AS succeeded, sum(failed)::int AS failed FROM (
    ${
      shape.completionTime
        ? `SELECT date_trunc('minute', "CompletionTime") AS minute, count(*) AS succeeded, 0 AS failed FROM ${TABLE}
    WHERE "CompletionTime" IS NOT NULL AND "CompletionTime" >= $2::timestamp GROUP BY 1
    UNION ALL
    `
        : ''
    }${failedPerMinute}) AS counts
  GROUP BY minute`,
  };
});

const TABLE_SIZE = `SELECT reltuples::float8 AS tuples, relpages::float8 AS pages,
  pg_relation_size(oid)::float8 / current_setting('block_size')::float8 AS blocks
  FROM pg_class WHERE oid = '${TABLE}'::regclass`;
const ROWS_UP_TO = `SELECT count(*)::int AS n FROM (SELECT 1 FROM ${TABLE} LIMIT $1) AS bounded`;
/** About this many rows are read to estimate a big table's counts. */
const SAMPLE_ROWS = 30_000;
const countState = (branch: string) => `SELECT "JobName" COLLATE "C" AS "jobName", count(*)::int AS n
  FROM (SELECT "JobName" FROM ${TABLE} WHERE ${branch} LIMIT $1) AS bounded GROUP BY 1`;
const DELETE = `DELETE FROM ${TABLE} WHERE "Id" = ANY($2::uuid[]) AND NOT ${HELD} RETURNING "Id"`;

type Row = Record<string, unknown>;

export class PostgresJobAdminStore implements JobAdminStore {
  constructor(
    private readonly pool: Pool,
    private readonly table: TableShapeCache,
  ) {}

  private async statements() {
    return statementsFor(await this.table.shape());
  }

  async countStates(now: Date, exactUpTo: number): Promise<StateCount[]> {
    const at = toUtcText(now);
    let tableRows = 0;
    const statements = await this.statements();
    return countStatesBounded(
      {
        rowsUpTo: async (limit) => {
          tableRows = await this.tableRows();
          // The statistics say it is well above the bound: no need to read `limit` rows to know.
          if (tableRows > 2 * limit) return limit;
          return (await this.rows(ROWS_UP_TO, [limit]))[0].n as number;
        },
        countAll: async () => counts(await this.rows(statements.countAll, [at])),
        estimate: async () => {
          const percent = Math.min(100, (100 * SAMPLE_ROWS) / Math.max(tableRows, exactUpTo + 1));
          return scaleSample(
            (await this.rows(statements.sample, [at, percent])) as Array<{ jobName: string; state: string; n: number }>,
            100 / percent,
          );
        },
        countState: (state, limit) => this.countState(statements.branches[state], at, limit),
      },
      exactUpTo,
    );
  }

  /** The planner's row count (reltuples) scaled to the table's size now, as the planner does it; 0 if never measured. */
  private async tableRows(): Promise<number> {
    const [{ tuples, pages, blocks }] = (await this.rows(TABLE_SIZE, [])) as Array<Record<string, number>>;
    return tuples > 0 && pages > 0 ? (tuples / pages) * blocks : 0;
  }

  private async countState(branches: string[], at: string, limit: number): Promise<JobNameCount[] | undefined> {
    const found = new Map<string, number>();
    let total = 0;
    for (const branch of branches) {
      const values: unknown[] = [limit + 1];
      for (const r of await this.rows(countState(withNow(branch, values, at)), values)) {
        found.set(r.jobName as string, (found.get(r.jobName as string) ?? 0) + (r.n as number));
        total += r.n as number;
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
    const values: unknown[] = [request.limit];
    const param = (value: unknown, type: string) => `$${values.push(value)}::${type}`;
    const filters: string[] = [];
    if (request.jobName !== undefined) filters.push(`"JobName" = ${param(request.jobName, 'varchar')}`);
    // A table without ApplicationName has no application filter: every row is every application's.
    if (shape.applicationName && request.applicationName === null) filters.push('"ApplicationName" IS NULL');
    else if (shape.applicationName && request.applicationName !== undefined)
      filters.push(`"ApplicationName" = ${param(request.applicationName, 'varchar')}`);
    if (request.after) {
      const time = param(request.after.time, 'timestamp');
      filters.push(
        `"${column}" ${past}= ${time} AND ("${column}" ${past} ${time} OR "Id" ${past} ${param(request.after.id, 'uuid')})`,
      );
    }
    const order = `ORDER BY "${column}" ${direction}, "Id" ${direction}`;
    const selects = branches.map(
      (branch) =>
        `(SELECT * FROM ${TABLE} WHERE ${[withNow(branch, values, toUtcText(request.now)), ...filters].join(' AND ')} ${order} LIMIT $1)`,
    );
    const sql = `SELECT ${statements.listed}, "${column}"::text AS "SortTime", "Id"::text AS "SortId"
      FROM (${selects.join(' UNION ALL ')}) AS page ${order} LIMIT $1`;
    return (await this.rows(sql, values)).map((row) => ({
      record: recordFromRow(row),
      position: { time: row.SortTime as string, id: row.SortId as string },
      jobArgsTruncated: row.ArgsCut === true,
    }));
  }

  async read(ids: string[]): Promise<JobStateRow[]> {
    return (await this.rows((await this.statements()).read, [ids])).map((row) => ({
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
    return ids(
      await this.rows((await this.statements()).requeue, [
        toUtcText(now),
        updates.map((u) => u.id),
        updates.map((u) => u.expectedStamp),
        updates.map((u) => u.extraProperties),
        updates.map((u) => u.newStamp),
      ]),
    );
  }

  async runNow(jobIds: string[], now: Date, newStamp: string): Promise<string[]> {
    return ids(await this.rows((await this.statements()).runNow, [toUtcText(now), jobIds, newStamp]));
  }

  async delete(jobIds: string[], now: Date): Promise<string[]> {
    return ids(await this.rows(DELETE, [toUtcText(now), jobIds]));
  }

  async history(since: Date, now: Date): Promise<HistoryCount[]> {
    const rows = await this.rows((await this.statements()).perMinute, [toUtcText(now), toUtcText(since)]);
    return rows
      .map((r) => ({
        minute: new Date(`${(r.minute as string).replace(' ', 'T')}Z`),
        succeeded: r.succeeded as number,
        failed: r.failed as number,
      }))
      .sort((a, b) => a.minute.getTime() - b.minute.getTime());
  }

  private async rows(text: string, values: unknown[]): Promise<Row[]> {
    return (await this.pool.query(text, values)).rows as Row[];
  }
}

/** The branch with its NOW marks as one more parameter (added to `values` only if it has any). */
function withNow(branch: string, values: unknown[], now: string): string {
  if (!branch.includes(NOW)) return branch;
  const param = `$${values.push(now)}::timestamp`;
  return branch.split(NOW).join(param);
}

function counts(rows: Row[]): StateCount[] {
  return rows.map((r) => ({
    jobName: r.jobName as string,
    state: r.state as JobState,
    count: r.n as number,
    estimated: false,
  }));
}

function ids(rows: Row[]): string[] {
  return rows.map((r) => String(r.Id).toLowerCase());
}

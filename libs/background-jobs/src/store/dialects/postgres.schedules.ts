import type { Pool } from 'pg';
import { ScheduleDefinition, scheduleFromRow, ScheduleRecord, ScheduleRun, ScheduleStore } from '../schedule-store';
import { toUtcText } from '../sql-time';
import { AbpColumn, perShape, shapeTag, TableShape, TableShapeCache, tableColumns } from '../table-shape';
import { columnList, NOTIFY_CHANNEL, unused } from './postgres.names';

/** Ours, beside ABP's: recurring jobs' schedules. Run at the end of PostgresBackgroundJobStore.migrate(). */
export const POSTGRES_SCHEDULES_MIGRATION = [
  `CREATE TABLE IF NOT EXISTS "AbpBackgroundJobSchedules" (
    "Name" character varying(128) NOT NULL,
    "ApplicationName" character varying(96) NULL,
    "JobName" character varying(128) NOT NULL,
    "JobArgs" character varying(1048576) NOT NULL,
    "Cron" character varying(128) NOT NULL,
    "TimeZone" character varying(64) NULL,
    "Priority" smallint NOT NULL DEFAULT 15,
    "IsPaused" boolean NOT NULL DEFAULT FALSE,
    "Source" character varying(16) NOT NULL,
    "DefinitionStamp" character varying(40) NOT NULL,
    "CreationTime" timestamp without time zone NOT NULL,
    "LastOccurrenceTime" timestamp without time zone NOT NULL,
    "LastEnqueueTime" timestamp without time zone NULL,
    "LastJobId" uuid NULL,
    CONSTRAINT "PK_AbpBackgroundJobSchedules" PRIMARY KEY ("Name"))`,
];

/** Times as text: no value can make the driver's type parser throw, and fromUtcText reads them alike everywhere. */
const SELECT = `SELECT "Name", "ApplicationName", "JobName", "JobArgs", "Cron", "TimeZone", "Priority", "IsPaused", "Source",
  "DefinitionStamp", "CreationTime"::text AS "CreationTime", "LastOccurrenceTime"::text AS "LastOccurrenceTime",
  "LastEnqueueTime"::text AS "LastEnqueueTime", "LastJobId" FROM "AbpBackgroundJobSchedules"`;
// Names in byte order, whatever the column's collation.
const ORDER = 'ORDER BY "Name" COLLATE "C"';
const LIST_ALL = `${SELECT} ${ORDER}`;
const LIST_FOR_APP = `${SELECT} WHERE "ApplicationName" = $1 ${ORDER}`;
const LIST_FOR_NULL_APP = `${SELECT} WHERE "ApplicationName" IS NULL ${ORDER}`;
const FIND = `${SELECT} WHERE "Name" = $1`;

const INSERT = `INSERT INTO "AbpBackgroundJobSchedules" ("Name", "ApplicationName", "JobName", "JobArgs", "Cron", "TimeZone",
    "Priority", "IsPaused", "Source", "DefinitionStamp", "CreationTime", "LastOccurrenceTime", "LastEnqueueTime", "LastJobId")
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::timestamp, $12::timestamp, $13::timestamp, $14::uuid)
  ON CONFLICT ("Name") DO NOTHING`;

/** The cursor never moves back (GREATEST): an occurrence once enqueued is never enqueued again. */
const UPDATE_DEFINITION = `UPDATE "AbpBackgroundJobSchedules"
  SET "ApplicationName" = $2, "JobName" = $3, "JobArgs" = $4, "Cron" = $5, "TimeZone" = $6, "Priority" = $7, "Source" = $8,
    "DefinitionStamp" = $10, "LastOccurrenceTime" = GREATEST("LastOccurrenceTime", $11::timestamp)
  WHERE "Name" = $1 AND "DefinitionStamp" = $9`;

/** Resuming moves the cursor to now: what came due while paused never runs. */
const SET_PAUSED = `UPDATE "AbpBackgroundJobSchedules"
  SET "LastOccurrenceTime" = CASE WHEN "IsPaused" AND NOT $2::boolean THEN GREATEST("LastOccurrenceTime", $3::timestamp)
      ELSE "LastOccurrenceTime" END,
    "IsPaused" = $2::boolean
  WHERE "Name" = $1`;

const REMOVE = `DELETE FROM "AbpBackgroundJobSchedules" WHERE "Name" = $1`;

/**
 * One statement: the schedule's update (for an occurrence, only while it is not paused, has the
 * stamp and its cursor is before the occurrence) and, only if it changed the schedule, the job
 * row. Two workers at one occurrence: the second waits on the schedule's row lock, then finds
 * the cursor moved and changes nothing, so it writes no job.
 */
const enqueueRun = (shape: TableShape, scheduleUpdate: string) => {
  const values: Record<AbpColumn, string> = {
    Id: '$1::uuid',
    ApplicationName: '$2::varchar',
    JobName: '$3::varchar',
    JobArgs: '$4::varchar',
    TryCount: '0',
    CreationTime: '$5::timestamp',
    NextTryTime: '$6::timestamp',
    LastTryTime: 'NULL',
    IsAbandoned: 'FALSE',
    Priority: '$7::smallint',
    CompletionTime: 'NULL',
    ExtraProperties: '$8::text',
    ConcurrencyStamp: '$9::varchar',
  };
  return `WITH advanced AS (
    UPDATE "AbpBackgroundJobSchedules" SET ${scheduleUpdate}
    RETURNING 1),
  inserted AS (
    INSERT INTO "AbpBackgroundJobs" (${columnList(shape)})
    SELECT ${tableColumns(shape)
      .map((c) => values[c])
      .join(', ')}
    FROM advanced${shape.applicationName ? '' : ` WHERE ${unused(2, 'varchar')}`}
    ON CONFLICT ("Id") DO NOTHING
    RETURNING 1)
  SELECT (SELECT COUNT(*)::int FROM advanced) AS advanced, (SELECT pg_notify('${NOTIFY_CHANNEL}', '') FROM inserted LIMIT 1) AS notified`;
};

/** The statements that write job rows, for a table of this shape, built once per shape (see table-shape.ts). */
const statementsFor = perShape((shape: TableShape) => ({
  tag: shapeTag(shape),
  ENQUEUE_OCCURRENCE: enqueueRun(
    shape,
    `"LastOccurrenceTime" = $11::timestamp, "LastEnqueueTime" = $5::timestamp, "LastJobId" = $1::uuid
    WHERE "Name" = $10 AND "IsPaused" = FALSE AND "DefinitionStamp" = $12 AND "LastOccurrenceTime" < $11::timestamp`,
  ),
  ENQUEUE_TRIGGERED: enqueueRun(shape, `"LastEnqueueTime" = $5::timestamp, "LastJobId" = $1::uuid WHERE "Name" = $10`),
}));

export class PostgresSchedules implements ScheduleStore {
  constructor(
    private readonly pool: Pool,
    private readonly table: TableShapeCache,
  ) {}

  async list(applicationName?: string | null): Promise<ScheduleRecord[]> {
    const { rows } =
      applicationName === undefined
        ? await this.pool.query({ name: 'bj_schedules_all', text: LIST_ALL })
        : applicationName === null
          ? await this.pool.query({ name: 'bj_schedules_null_app', text: LIST_FOR_NULL_APP })
          : await this.pool.query({ name: 'bj_schedules_app', text: LIST_FOR_APP, values: [applicationName] });
    return rows.map(scheduleFromRow);
  }

  async find(name: string): Promise<ScheduleRecord | undefined> {
    const { rows } = await this.pool.query<Record<string, unknown>>({
      name: 'bj_schedule_find',
      text: FIND,
      values: [name],
    });
    return rows[0] && scheduleFromRow(rows[0]);
  }

  async insert(s: ScheduleRecord): Promise<boolean> {
    const time = (value: Date | null) => value && toUtcText(value);
    const { rowCount } = await this.pool.query({
      name: 'bj_schedule_insert',
      text: INSERT,
      values: [
        s.name,
        s.applicationName,
        s.jobName,
        s.jobArgs,
        s.cron,
        s.timeZone,
        s.priority,
        s.isPaused,
        s.source,
        s.definitionStamp,
        time(s.creationTime),
        time(s.lastOccurrenceTime),
        time(s.lastEnqueueTime),
        s.lastJobId,
      ],
    });
    return rowCount === 1;
  }

  async updateDefinition(
    d: ScheduleDefinition,
    expectedStamp: string,
    newStamp: string,
    lastOccurrenceTime: Date,
  ): Promise<boolean> {
    const { rowCount } = await this.pool.query({
      name: 'bj_schedule_update',
      text: UPDATE_DEFINITION,
      values: [
        d.name,
        d.applicationName,
        d.jobName,
        d.jobArgs,
        d.cron,
        d.timeZone,
        d.priority,
        d.source,
        expectedStamp,
        newStamp,
        toUtcText(lastOccurrenceTime),
      ],
    });
    return rowCount === 1;
  }

  async setPaused(name: string, paused: boolean, resumedAt: Date): Promise<boolean> {
    const { rowCount } = await this.pool.query({
      name: 'bj_schedule_pause',
      text: SET_PAUSED,
      values: [name, paused, toUtcText(resumedAt)],
    });
    return rowCount === 1;
  }

  async remove(name: string): Promise<boolean> {
    const { rowCount } = await this.pool.query({ name: 'bj_schedule_remove', text: REMOVE, values: [name] });
    return rowCount === 1;
  }

  async enqueueRun(run: ScheduleRun, now: Date): Promise<boolean> {
    const { job, occurrence } = run;
    const values = [
      job.id,
      job.applicationName,
      job.jobName,
      job.jobArgs,
      toUtcText(now),
      toUtcText(job.nextTryTime),
      job.priority,
      job.extraProperties,
      job.concurrencyStamp,
      run.name,
    ];
    const statements = statementsFor(await this.table.shape());
    const { rows } = occurrence
      ? await this.pool.query({
          name: `bj_schedule_occurrence${statements.tag}`,
          text: statements.ENQUEUE_OCCURRENCE,
          values: [...values, toUtcText(occurrence.time), occurrence.definitionStamp],
        })
      : await this.pool.query({
          name: `bj_schedule_trigger${statements.tag}`,
          text: statements.ENQUEUE_TRIGGERED,
          values,
        });
    return (rows[0] as { advanced: number }).advanced === 1;
  }
}

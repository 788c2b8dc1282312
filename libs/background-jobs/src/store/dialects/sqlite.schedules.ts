import { scheduleFromRow, ScheduleDefinition, ScheduleRecord, ScheduleRun, ScheduleStore } from '../schedule-store';
import { toUtcText } from '../sql-time';
import type { TableShapeCache } from '../table-shape';
import { SqliteStatements } from './sqlite-statements';
import { insertJobIfAbsent } from './sqlite.unique-jobs';

/** Ours, beside ABP's: recurring jobs' schedules; times UTC text (they compare as text), booleans 0/1. */
export const SQLITE_SCHEDULES_MIGRATION = [
  `CREATE TABLE IF NOT EXISTS "AbpBackgroundJobSchedules" (
    "Name" TEXT NOT NULL CONSTRAINT "PK_AbpBackgroundJobSchedules" PRIMARY KEY,
    "ApplicationName" TEXT NULL,
    "JobName" TEXT NOT NULL,
    "JobArgs" TEXT NOT NULL,
    "Cron" TEXT NOT NULL,
    "TimeZone" TEXT NULL,
    "Priority" INTEGER NOT NULL DEFAULT 15,
    "IsPaused" INTEGER NOT NULL DEFAULT 0,
    "Source" TEXT NOT NULL,
    "DefinitionStamp" TEXT NOT NULL,
    "CreationTime" TEXT NOT NULL,
    "LastOccurrenceTime" TEXT NOT NULL,
    "LastEnqueueTime" TEXT NULL,
    "LastJobId" TEXT NULL
  )`,
];

const SELECT = `SELECT "Name", "ApplicationName", "JobName", "JobArgs", "Cron", "TimeZone", "Priority", "IsPaused", "Source",
  "DefinitionStamp", "CreationTime", "LastOccurrenceTime", "LastEnqueueTime", "LastJobId" FROM "AbpBackgroundJobSchedules"`;
const ORDER = 'ORDER BY "Name" COLLATE BINARY';
const LIST_ALL = `${SELECT} ${ORDER}`;
const LIST_FOR_APP = `${SELECT} WHERE "ApplicationName" = ? ${ORDER}`;
const LIST_FOR_NULL_APP = `${SELECT} WHERE "ApplicationName" IS NULL ${ORDER}`;
const FIND = `${SELECT} WHERE "Name" = ?`;

const INSERT = `INSERT INTO "AbpBackgroundJobSchedules" ("Name", "ApplicationName", "JobName", "JobArgs", "Cron", "TimeZone",
    "Priority", "IsPaused", "Source", "DefinitionStamp", "CreationTime", "LastOccurrenceTime", "LastEnqueueTime", "LastJobId")
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`;

/** The cursor never moves back (MAX of two UTC texts of one width: they compare as the times do). */
const UPDATE_DEFINITION = `UPDATE "AbpBackgroundJobSchedules"
  SET "ApplicationName" = ?, "JobName" = ?, "JobArgs" = ?, "Cron" = ?, "TimeZone" = ?, "Priority" = ?, "Source" = ?,
    "DefinitionStamp" = ?, "LastOccurrenceTime" = MAX("LastOccurrenceTime", ?)
  WHERE "Name" = ? AND "DefinitionStamp" = ?`;

const SET_PAUSED = `UPDATE "AbpBackgroundJobSchedules"
  SET "LastOccurrenceTime" = CASE WHEN "IsPaused" = 1 AND ? = 0 THEN MAX("LastOccurrenceTime", ?) ELSE "LastOccurrenceTime" END,
    "IsPaused" = ?
  WHERE "Name" = ?`;

const REMOVE = `DELETE FROM "AbpBackgroundJobSchedules" WHERE "Name" = ?`;

const ADVANCE = `UPDATE "AbpBackgroundJobSchedules" SET "LastOccurrenceTime" = ?, "LastEnqueueTime" = ?, "LastJobId" = ?
  WHERE "Name" = ? AND "IsPaused" = 0 AND "DefinitionStamp" = ? AND "LastOccurrenceTime" < ?`;
const RECORD_TRIGGER = `UPDATE "AbpBackgroundJobSchedules" SET "LastEnqueueTime" = ?, "LastJobId" = ? WHERE "Name" = ?`;

type Row = Record<string, unknown>;

/** Schedules on SQLite; a run's two writes go in one IMMEDIATE transaction (a savepoint inside another). */
export class SqliteSchedules implements ScheduleStore {
  constructor(
    private readonly statements: SqliteStatements,
    private readonly table: TableShapeCache,
  ) {}

  async list(applicationName?: string | null): Promise<ScheduleRecord[]> {
    const rows =
      applicationName === undefined
        ? this.statements.get(LIST_ALL).all()
        : applicationName === null
          ? this.statements.get(LIST_FOR_NULL_APP).all()
          : this.statements.get(LIST_FOR_APP).all(applicationName);
    return (rows as Row[]).map(scheduleFromRow);
  }

  async find(name: string): Promise<ScheduleRecord | undefined> {
    const row = this.statements.get(FIND).get(name) as Row | undefined;
    return row && scheduleFromRow(row);
  }

  async insert(s: ScheduleRecord): Promise<boolean> {
    const time = (value: Date | null) => value && toUtcText(value);
    return (
      this.statements
        .get(INSERT)
        .run(
          s.name,
          s.applicationName,
          s.jobName,
          s.jobArgs,
          s.cron,
          s.timeZone,
          s.priority,
          s.isPaused ? 1 : 0,
          s.source,
          s.definitionStamp,
          time(s.creationTime),
          time(s.lastOccurrenceTime),
          time(s.lastEnqueueTime),
          s.lastJobId && s.lastJobId.toUpperCase(),
        ).changes === 1
    );
  }

  async updateDefinition(
    d: ScheduleDefinition,
    expectedStamp: string,
    newStamp: string,
    lastOccurrenceTime: Date,
  ): Promise<boolean> {
    return (
      this.statements
        .get(UPDATE_DEFINITION)
        .run(
          d.applicationName,
          d.jobName,
          d.jobArgs,
          d.cron,
          d.timeZone,
          d.priority,
          d.source,
          newStamp,
          toUtcText(lastOccurrenceTime),
          d.name,
          expectedStamp,
        ).changes === 1
    );
  }

  async setPaused(name: string, paused: boolean, resumedAt: Date): Promise<boolean> {
    const flag = paused ? 1 : 0;
    return this.statements.get(SET_PAUSED).run(flag, toUtcText(resumedAt), flag, name).changes === 1;
  }

  async remove(name: string): Promise<boolean> {
    return this.statements.get(REMOVE).run(name).changes === 1;
  }

  async enqueueRun(run: ScheduleRun, now: Date): Promise<boolean> {
    const { job, occurrence } = run;
    const shape = await this.table.shape();
    const created = toUtcText(now);
    const jobId = job.id.toUpperCase();
    return this.statements.db
      .transaction(() => {
        const recorded = occurrence
          ? this.statements
              .get(ADVANCE)
              .run(
                toUtcText(occurrence.time),
                created,
                jobId,
                run.name,
                occurrence.definitionStamp,
                toUtcText(occurrence.time),
              ).changes
          : this.statements.get(RECORD_TRIGGER).run(created, jobId, run.name).changes;
        if (recorded !== 1) return false;
        insertJobIfAbsent(this.statements, shape, { ...job, creationTime: now });
        return true;
      })
      .immediate();
  }
}

import { scheduleFromRow, ScheduleDefinition, ScheduleRecord, ScheduleRun, ScheduleStore } from '../schedule-store';
import { retryOnDeadlock } from './dialect-helpers';
import type { SqlParam, SqlRunner } from './mssql-runner';
import { isDeadlock } from './mssql.cancellations';
import { insertJobIfAbsent, jobRowParams } from './mssql.unique-jobs';
import type { TableShapeCache } from '../table-shape';

/**
 * Ours, beside ABP's: recurring jobs' schedules. A part of MssqlBackgroundJobStore's MIGRATE batch.
 * Names compare as code points (BIN2), not as the database's collation would ('Nightly' = 'nightly ').
 */
export const MSSQL_SCHEDULES_MIGRATION = `IF OBJECT_ID(N'[AbpBackgroundJobSchedules]', N'U') IS NULL
  CREATE TABLE [AbpBackgroundJobSchedules] (
    [Name] nvarchar(128) COLLATE Latin1_General_BIN2 NOT NULL,
    [ApplicationName] nvarchar(96) NULL,
    [JobName] nvarchar(128) NOT NULL,
    [JobArgs] nvarchar(max) NOT NULL,
    [Cron] nvarchar(128) NOT NULL,
    [TimeZone] nvarchar(64) NULL,
    [Priority] tinyint NOT NULL DEFAULT CAST(15 AS tinyint),
    [IsPaused] bit NOT NULL DEFAULT CAST(0 AS bit),
    [Source] nvarchar(16) NOT NULL,
    [DefinitionStamp] nvarchar(40) NOT NULL,
    [CreationTime] datetime2 NOT NULL,
    [LastOccurrenceTime] datetime2 NOT NULL,
    [LastEnqueueTime] datetime2 NULL,
    [LastJobId] uniqueidentifier NULL,
    CONSTRAINT [PK_AbpBackgroundJobSchedules] PRIMARY KEY ([Name])
  );`;

/**
 * A name matches code point for code point: SQL Server ignores trailing spaces in = under every
 * collation ('x' = 'x '); the first test seeks the key, the second decides.
 */
const NAME_IS = '[Name] = @name AND CAST([Name] AS varbinary(256)) = CAST(@name AS varbinary(256))';

const SELECT = `SELECT [Name], [ApplicationName], [JobName], [JobArgs], [Cron], [TimeZone], [Priority], [IsPaused], [Source],
  [DefinitionStamp], [CreationTime], [LastOccurrenceTime], [LastEnqueueTime], [LastJobId] FROM [AbpBackgroundJobSchedules]`;
const LIST_ALL = `${SELECT} ORDER BY [Name];`;
const LIST_FOR_APP = `${SELECT} WHERE [ApplicationName] = @applicationName ORDER BY [Name];`;
const LIST_FOR_NULL_APP = `${SELECT} WHERE [ApplicationName] IS NULL ORDER BY [Name];`;
const FIND = `${SELECT} WHERE ${NAME_IS};`;

const INSERT = `INSERT INTO [AbpBackgroundJobSchedules] WITH (ROWLOCK) ([Name], [ApplicationName], [JobName], [JobArgs], [Cron], [TimeZone],
  [Priority], [IsPaused], [Source], [DefinitionStamp], [CreationTime], [LastOccurrenceTime], [LastEnqueueTime], [LastJobId])
SELECT @name, @applicationName, @jobName, @jobArgs, @cron, @timeZone, @priority, @isPaused, @source, @definitionStamp,
  @creationTime, @lastOccurrenceTime, @lastEnqueueTime, @lastJobId
WHERE NOT EXISTS (SELECT 1 FROM [AbpBackgroundJobSchedules] WITH (UPDLOCK, HOLDLOCK) WHERE [Name] = @name);`;

/** The cursor never moves back (SQL Server 2016 has no GREATEST). */
const UPDATE_DEFINITION = `UPDATE [AbpBackgroundJobSchedules] WITH (ROWLOCK)
SET [ApplicationName] = @applicationName, [JobName] = @jobName, [JobArgs] = @jobArgs, [Cron] = @cron, [TimeZone] = @timeZone,
  [Priority] = @priority, [Source] = @source, [DefinitionStamp] = @newStamp,
  [LastOccurrenceTime] = CASE WHEN @lastOccurrenceTime > [LastOccurrenceTime] THEN @lastOccurrenceTime ELSE [LastOccurrenceTime] END
WHERE ${NAME_IS} AND [DefinitionStamp] = @expectedStamp;`;

/** Every SET reads the row as it was, so IsPaused here is the old value. */
const SET_PAUSED = `UPDATE [AbpBackgroundJobSchedules] WITH (ROWLOCK)
SET [LastOccurrenceTime] = CASE WHEN [IsPaused] = 1 AND @paused = 0 AND @resumedAt > [LastOccurrenceTime] THEN @resumedAt
    ELSE [LastOccurrenceTime] END,
  [IsPaused] = @paused
WHERE ${NAME_IS};`;

const REMOVE = `DELETE FROM [AbpBackgroundJobSchedules] WITH (ROWLOCK) WHERE ${NAME_IS};`;

const ADVANCE = `UPDATE [AbpBackgroundJobSchedules] WITH (ROWLOCK)
SET [LastOccurrenceTime] = @occurrence, [LastEnqueueTime] = @now, [LastJobId] = @jobId
WHERE ${NAME_IS} AND [IsPaused] = 0 AND [DefinitionStamp] = @definitionStamp AND [LastOccurrenceTime] < @occurrence;`;
const RECORD_TRIGGER = `UPDATE [AbpBackgroundJobSchedules] WITH (ROWLOCK) SET [LastEnqueueTime] = @now, [LastJobId] = @jobId
WHERE ${NAME_IS};`;

const nameParam = (name: string): SqlParam => ({ name: 'name', type: 'nvarchar(128)', value: name });

/**
 * Schedules on SQL Server. A run is one short transaction: the schedule's UPDATE takes its row's
 * lock, so a second worker at the same occurrence waits, then finds the cursor moved (the
 * predicate is checked again on the committed row) and changes nothing.
 */
export class MssqlSchedules implements ScheduleStore {
  constructor(
    private readonly sql: SqlRunner,
    private readonly table: TableShapeCache,
  ) {}

  async list(applicationName?: string | null): Promise<ScheduleRecord[]> {
    const { rows } =
      applicationName === undefined
        ? await this.sql.query(LIST_ALL)
        : applicationName === null
          ? await this.sql.query(LIST_FOR_NULL_APP)
          : await this.sql.query(LIST_FOR_APP, [
              { name: 'applicationName', type: 'nvarchar(96)', value: applicationName },
            ]);
    return rows.map(scheduleFromRow);
  }

  async find(name: string): Promise<ScheduleRecord | undefined> {
    const { rows } = await this.sql.query(FIND, [nameParam(name)]);
    return rows[0] && scheduleFromRow(rows[0]);
  }

  async insert(s: ScheduleRecord): Promise<boolean> {
    const { rowsAffected } = await this.sql.query(INSERT, [
      ...definitionParams(s),
      { name: 'isPaused', type: 'bit', value: s.isPaused },
      { name: 'definitionStamp', type: 'nvarchar(40)', value: s.definitionStamp },
      { name: 'creationTime', type: 'datetime2', value: s.creationTime },
      { name: 'lastOccurrenceTime', type: 'datetime2', value: s.lastOccurrenceTime },
      { name: 'lastEnqueueTime', type: 'datetime2', value: s.lastEnqueueTime },
      { name: 'lastJobId', type: 'uniqueidentifier', value: s.lastJobId },
    ]);
    return rowsAffected === 1;
  }

  async updateDefinition(
    d: ScheduleDefinition,
    expectedStamp: string,
    newStamp: string,
    lastOccurrenceTime: Date,
  ): Promise<boolean> {
    const { rowsAffected } = await this.sql.query(UPDATE_DEFINITION, [
      ...definitionParams(d),
      { name: 'expectedStamp', type: 'nvarchar(40)', value: expectedStamp },
      { name: 'newStamp', type: 'nvarchar(40)', value: newStamp },
      { name: 'lastOccurrenceTime', type: 'datetime2', value: lastOccurrenceTime },
    ]);
    return rowsAffected === 1;
  }

  async setPaused(name: string, paused: boolean, resumedAt: Date): Promise<boolean> {
    const { rowsAffected } = await this.sql.query(SET_PAUSED, [
      nameParam(name),
      { name: 'paused', type: 'bit', value: paused },
      { name: 'resumedAt', type: 'datetime2', value: resumedAt },
    ]);
    return rowsAffected === 1;
  }

  async remove(name: string): Promise<boolean> {
    return (await this.sql.query(REMOVE, [nameParam(name)])).rowsAffected === 1;
  }

  async enqueueRun(run: ScheduleRun, now: Date): Promise<boolean> {
    const { job, occurrence } = run;
    const shape = await this.table.shape();
    const common: SqlParam[] = [
      nameParam(run.name),
      { name: 'now', type: 'datetime2', value: now },
      { name: 'jobId', type: 'uniqueidentifier', value: job.id },
    ];
    return retryOnDeadlock(
      () =>
        this.sql.transaction(async (tx) => {
          const { rowsAffected } = occurrence
            ? await tx.query(ADVANCE, [
                ...common,
                { name: 'occurrence', type: 'datetime2', value: occurrence.time },
                { name: 'definitionStamp', type: 'nvarchar(40)', value: occurrence.definitionStamp },
              ])
            : await tx.query(RECORD_TRIGGER, common);
          if (rowsAffected !== 1) return false;
          await tx.query(insertJobIfAbsent(shape), jobRowParams({ ...job, creationTime: now }, shape));
          return true;
        }),
      isDeadlock,
    );
  }
}

function definitionParams(d: ScheduleDefinition): SqlParam[] {
  return [
    nameParam(d.name),
    { name: 'applicationName', type: 'nvarchar(96)', value: d.applicationName },
    { name: 'jobName', type: 'nvarchar(128)', value: d.jobName },
    { name: 'jobArgs', type: 'nvarchar(max)', value: d.jobArgs },
    { name: 'cron', type: 'nvarchar(128)', value: d.cron },
    { name: 'timeZone', type: 'nvarchar(64)', value: d.timeZone },
    { name: 'priority', type: 'int', value: d.priority },
    { name: 'source', type: 'nvarchar(16)', value: d.source },
  ];
}

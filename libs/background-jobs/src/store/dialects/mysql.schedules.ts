import type { Pool, PoolConnection } from 'mysql2/promise';
import { scheduleFromRow, ScheduleDefinition, ScheduleRecord, ScheduleRun, ScheduleStore } from '../schedule-store';
import type { TableShapeCache } from '../table-shape';
import { inTransaction, retryOnDeadlock } from './dialect-helpers';
import { insertJobIfAbsent } from './mysql.unique-jobs';

/**
 * Ours, beside ABP's: recurring jobs' schedules. Names compare as bytes (utf8mb4_bin), not as
 * the default collation would ('Nightly' = 'nightly').
 */
export const MYSQL_SCHEDULES_MIGRATION = [
  `CREATE TABLE IF NOT EXISTS \`AbpBackgroundJobSchedules\` (
  \`Name\` varchar(128) COLLATE utf8mb4_bin NOT NULL,
  \`ApplicationName\` varchar(96) NULL,
  \`JobName\` varchar(128) NOT NULL,
  \`JobArgs\` longtext NOT NULL,
  \`Cron\` varchar(128) NOT NULL,
  \`TimeZone\` varchar(64) NULL,
  \`Priority\` tinyint unsigned NOT NULL DEFAULT 15,
  \`IsPaused\` tinyint(1) NOT NULL DEFAULT FALSE,
  \`Source\` varchar(16) NOT NULL,
  \`DefinitionStamp\` varchar(40) NOT NULL,
  \`CreationTime\` datetime(6) NOT NULL,
  \`LastOccurrenceTime\` datetime(6) NOT NULL,
  \`LastEnqueueTime\` datetime(6) NULL,
  \`LastJobId\` char(36) COLLATE ascii_general_ci NULL,
  CONSTRAINT \`PK_AbpBackgroundJobSchedules\` PRIMARY KEY (\`Name\`)
) CHARACTER SET=utf8mb4`,
];

/**
 * A name matches byte for byte: utf8mb4_bin still pads with spaces ('x' = 'x '); the first test
 * seeks the key, the second decides. The name is sent twice.
 */
const NAME_IS = '`Name` = ? AND CAST(`Name` AS BINARY) = CAST(? AS BINARY)';

const SELECT = `SELECT \`Name\`, \`ApplicationName\`, \`JobName\`, \`JobArgs\`, \`Cron\`, \`TimeZone\`, \`Priority\`, \`IsPaused\`,
  \`Source\`, \`DefinitionStamp\`, \`CreationTime\`, \`LastOccurrenceTime\`, \`LastEnqueueTime\`, \`LastJobId\`
  FROM \`AbpBackgroundJobSchedules\``;
const ORDER = 'ORDER BY `Name`';
const LIST_ALL = `${SELECT} ${ORDER}`;
const LIST_FOR_APP = `${SELECT} WHERE \`ApplicationName\` = ? ${ORDER}`;
const LIST_FOR_NULL_APP = `${SELECT} WHERE \`ApplicationName\` IS NULL ${ORDER}`;
const FIND = `${SELECT} WHERE ${NAME_IS}`;

const INSERT = `INSERT INTO \`AbpBackgroundJobSchedules\` (\`Name\`, \`ApplicationName\`, \`JobName\`, \`JobArgs\`, \`Cron\`, \`TimeZone\`,
    \`Priority\`, \`IsPaused\`, \`Source\`, \`DefinitionStamp\`, \`CreationTime\`, \`LastOccurrenceTime\`, \`LastEnqueueTime\`, \`LastJobId\`)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/** The cursor never moves back. */
const UPDATE_DEFINITION = `UPDATE \`AbpBackgroundJobSchedules\`
  SET \`ApplicationName\` = ?, \`JobName\` = ?, \`JobArgs\` = ?, \`Cron\` = ?, \`TimeZone\` = ?, \`Priority\` = ?, \`Source\` = ?,
    \`DefinitionStamp\` = ?, \`LastOccurrenceTime\` = GREATEST(\`LastOccurrenceTime\`, ?)
  WHERE ${NAME_IS} AND \`DefinitionStamp\` = ?`;

/** The cursor moves before IsPaused changes, reading the old IsPaused (SET runs left to right). */
const SET_PAUSED = `UPDATE \`AbpBackgroundJobSchedules\`
  SET \`LastOccurrenceTime\` = CASE WHEN \`IsPaused\` = 1 AND ? = 0 THEN GREATEST(\`LastOccurrenceTime\`, ?) ELSE \`LastOccurrenceTime\` END,
    \`IsPaused\` = ?
  WHERE ${NAME_IS}`;

const REMOVE = `DELETE FROM \`AbpBackgroundJobSchedules\` WHERE ${NAME_IS}`;

const ADVANCE = `UPDATE \`AbpBackgroundJobSchedules\` SET \`LastOccurrenceTime\` = ?, \`LastEnqueueTime\` = ?, \`LastJobId\` = ?
  WHERE ${NAME_IS} AND \`IsPaused\` = 0 AND \`DefinitionStamp\` = ? AND \`LastOccurrenceTime\` < ?`;
const RECORD_TRIGGER = `UPDATE \`AbpBackgroundJobSchedules\` SET \`LastEnqueueTime\` = ?, \`LastJobId\` = ? WHERE ${NAME_IS}`;

/** As the claim: READ COMMITTED takes no gap locks, so a run never blocks enqueues. */
const READ_COMMITTED = 'SET TRANSACTION ISOLATION LEVEL READ COMMITTED';

type Row = Record<string, unknown>;

/**
 * Schedules on MySQL/MariaDB. A run is one short transaction: the schedule's UPDATE locks its row,
 * so a second worker at the same occurrence waits, then reads the moved cursor and changes nothing.
 */
export class MysqlSchedules implements ScheduleStore {
  constructor(
    private readonly pool: Pool,
    private readonly table: TableShapeCache,
  ) {}

  async list(applicationName?: string | null): Promise<ScheduleRecord[]> {
    const [rows] = (await (applicationName === undefined
      ? this.pool.query(LIST_ALL)
      : applicationName === null
        ? this.pool.query(LIST_FOR_NULL_APP)
        : this.pool.query(LIST_FOR_APP, [applicationName]))) as [Row[], unknown];
    return rows.map(scheduleFromRow);
  }

  async find(name: string): Promise<ScheduleRecord | undefined> {
    const [rows] = (await this.pool.query(FIND, [name, name])) as [Row[], unknown];
    return rows[0] && scheduleFromRow(rows[0]);
  }

  async insert(s: ScheduleRecord): Promise<boolean> {
    try {
      await this.pool.query(INSERT, [
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
        s.creationTime,
        s.lastOccurrenceTime,
        s.lastEnqueueTime,
        s.lastJobId,
      ]);
      return true;
    } catch (error) {
      if ((error as { errno?: number })?.errno === 1062) return false;
      throw error;
    }
  }

  async updateDefinition(
    d: ScheduleDefinition,
    expectedStamp: string,
    newStamp: string,
    lastOccurrenceTime: Date,
  ): Promise<boolean> {
    return (
      (await this.affected(this.pool, UPDATE_DEFINITION, [
        d.applicationName,
        d.jobName,
        d.jobArgs,
        d.cron,
        d.timeZone,
        d.priority,
        d.source,
        newStamp,
        lastOccurrenceTime,
        d.name,
        d.name,
        expectedStamp,
      ])) === 1
    );
  }

  async setPaused(name: string, paused: boolean, resumedAt: Date): Promise<boolean> {
    const flag = paused ? 1 : 0;
    return (await this.affected(this.pool, SET_PAUSED, [flag, resumedAt, flag, name, name])) === 1;
  }

  async remove(name: string): Promise<boolean> {
    return (await this.affected(this.pool, REMOVE, [name, name])) === 1;
  }

  async enqueueRun(run: ScheduleRun, now: Date): Promise<boolean> {
    const { job, occurrence } = run;
    const shape = await this.table.shape();
    return retryOnDeadlock(
      () =>
        inTransaction(
          () => this.pool.getConnection(),
          async (connection: PoolConnection) => {
            const recorded = occurrence
              ? await this.affected(connection, ADVANCE, [
                  occurrence.time,
                  now,
                  job.id,
                  run.name,
                  run.name,
                  occurrence.definitionStamp,
                  occurrence.time,
                ])
              : await this.affected(connection, RECORD_TRIGGER, [now, job.id, run.name, run.name]);
            if (recorded !== 1) return false;
            await insertJobIfAbsent(connection, shape, { ...job, creationTime: now });
            return true;
          },
          [READ_COMMITTED],
        ),
      (error) => (error as { errno?: number })?.errno === 1213,
    );
  }

  private async affected(db: Pick<Pool, 'query'>, sql: string, values: unknown[]): Promise<number> {
    const [result] = (await db.query(sql, values)) as [{ affectedRows: number }, unknown];
    return result.affectedRows;
  }
}

import type { Pool, PoolConnection } from 'mysql2/promise';
import { BackgroundJobRecord, recordFromRow } from '../background-job-record';
import type { UniqueJobReplacement, UniqueJobStore } from '../unique-job-store';
import { LEASE_STAMP_LIKE } from './dialect-helpers';

/** The pool, or the connection of the caller's transaction. */
export type MysqlQueryable = Pick<Pool | PoolConnection, 'query'>;

/**
 * A plain INSERT whose duplicate-key error (1062) means "taken": MySQL rolls back just that
 * statement, never the caller's transaction. (INSERT IGNORE would also turn a value too long for
 * its column into a warning and write it cut short.)
 */
const INSERT = `INSERT INTO \`AbpBackgroundJobs\` (\`Id\`, \`ApplicationName\`, \`JobName\`, \`JobArgs\`, \`TryCount\`, \`CreationTime\`,
  \`NextTryTime\`, \`LastTryTime\`, \`IsAbandoned\`, \`Priority\`, \`CompletionTime\`, \`ExtraProperties\`, \`ConcurrencyStamp\`)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/** A locking read sees the last committed row, whatever the snapshot of the caller's REPEATABLE READ transaction. */
const CURRENT = 'SELECT * FROM `AbpBackgroundJobs` WHERE `Id` = ? LOCK IN SHARE MODE';

const MOVE_FINISHED = `UPDATE \`AbpBackgroundJobs\` SET \`Id\` = ?
  WHERE \`Id\` = ? AND (\`CompletionTime\` IS NOT NULL OR \`IsAbandoned\` = 1)`;

const REPLACE_WAITING = `UPDATE \`AbpBackgroundJobs\` SET \`JobArgs\` = ?, \`Priority\` = ?, \`NextTryTime\` = ?, \`ConcurrencyStamp\` = ?
  WHERE \`Id\` = ? AND \`CompletionTime\` IS NULL AND \`IsAbandoned\` = 0
    AND NOT (\`ConcurrencyStamp\` LIKE '${LEASE_STAMP_LIKE}' AND \`NextTryTime\` > ?)`;

/** ER_DUP_ENTRY: the row's key is taken. */
export function isDuplicateKey(error: unknown): boolean {
  return (error as { errno?: number })?.errno === 1062;
}

/** Writes the row unless its id is taken; true when it did. For schedules' runs too. */
export async function insertJobIfAbsent(db: MysqlQueryable, r: BackgroundJobRecord): Promise<boolean> {
  try {
    await db.query(INSERT, [
      r.id,
      r.applicationName,
      r.jobName,
      r.jobArgs,
      r.tryCount,
      r.creationTime,
      r.nextTryTime,
      r.lastTryTime,
      r.isAbandoned,
      r.priority,
      r.completionTime,
      r.extraProperties,
      r.concurrencyStamp,
    ]);
    return true;
  } catch (error) {
    if (isDuplicateKey(error)) return false;
    throw error;
  }
}

/** Unique jobs on MySQL/MariaDB; no statement retries itself, so none can run outside the caller's transaction. */
export class MysqlUniqueJobs implements UniqueJobStore {
  constructor(private readonly db: MysqlQueryable) {}

  async current(id: string): Promise<BackgroundJobRecord | undefined> {
    const [rows] = (await this.db.query(CURRENT, [id])) as [Array<Record<string, unknown>>, unknown];
    return rows[0] && recordFromRow(rows[0]);
  }

  async insertIfAbsent(row: BackgroundJobRecord): Promise<boolean> {
    return insertJobIfAbsent(this.db, row);
  }

  async moveFinished(id: string, newId: string): Promise<boolean> {
    return (await this.affected(MOVE_FINISHED, [newId, id])) === 1;
  }

  async replaceWaiting(r: UniqueJobReplacement, now: Date): Promise<boolean> {
    return (await this.affected(REPLACE_WAITING, [r.jobArgs, r.priority, r.nextTryTime, r.newStamp, r.id, now])) === 1;
  }

  private async affected(sql: string, values: unknown[]): Promise<number> {
    const [result] = (await this.db.query(sql, values)) as [{ affectedRows: number }, unknown];
    return result.affectedRows;
  }
}

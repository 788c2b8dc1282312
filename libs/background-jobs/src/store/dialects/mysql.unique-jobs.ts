import type { Pool, PoolConnection } from 'mysql2/promise';
import { BackgroundJobRecord, recordFromRow } from '../background-job-record';
import type { UniqueJobReplacement, UniqueJobStore } from '../unique-job-store';
import { NO_COMPLETION_TIME, perShape, recordField, TableShape, TableShapeCache, tableColumns } from '../table-shape';
import { LEASE_STAMP_LIKE } from './dialect-helpers';

/** The pool, or the connection of the caller's transaction. */
export type MysqlQueryable = Pick<Pool | PoolConnection, 'query'>;

/** The statements for a table of this shape, built once per shape (see table-shape.ts). */
const statementsFor = perShape((shape: TableShape) => {
  const columns = tableColumns(shape);
  const live = `${shape.completionTime ? '`CompletionTime` IS NULL AND ' : ''}\`IsAbandoned\` = 0`;
  const finished = shape.completionTime ? '(`CompletionTime` IS NOT NULL OR `IsAbandoned` = 1)' : '`IsAbandoned` = 1';
  return {
    ...shape,
    columns,
    /**
     * A plain INSERT whose duplicate-key error (1062) means "taken": MySQL rolls back just that
     * statement, never the caller's transaction. (INSERT IGNORE would also turn a value too long for
     * its column into a warning and write it cut short.) Only the table's columns.
     */
    INSERT: `INSERT INTO \`AbpBackgroundJobs\` (${columns.map((c) => `\`${c}\``).join(', ')})
  VALUES (${columns.map(() => '?').join(', ')})`,
    /** A locking read sees the last committed row, whatever the snapshot of the caller's REPEATABLE READ transaction. */
    CURRENT: 'SELECT * FROM `AbpBackgroundJobs` WHERE `Id` = ? LOCK IN SHARE MODE',
    MOVE_FINISHED: `UPDATE \`AbpBackgroundJobs\` SET \`Id\` = ? WHERE \`Id\` = ? AND ${finished}`,
    REPLACE_WAITING: `UPDATE \`AbpBackgroundJobs\` SET \`JobArgs\` = ?, \`Priority\` = ?, \`NextTryTime\` = ?, \`ConcurrencyStamp\` = ?
  WHERE \`Id\` = ? AND ${live}
    AND NOT (\`ConcurrencyStamp\` LIKE '${LEASE_STAMP_LIKE}' AND \`NextTryTime\` > ?)`,
  };
});

/** ER_DUP_ENTRY: the row's key is taken. */
export function isDuplicateKey(error: unknown): boolean {
  return (error as { errno?: number })?.errno === 1062;
}

/** Writes the row (only the columns of a table of `shape`) unless its id is taken; true when it did. For schedules' runs too. */
export async function insertJobIfAbsent(
  db: MysqlQueryable,
  shape: TableShape,
  r: BackgroundJobRecord,
): Promise<boolean> {
  const { INSERT, columns, completionTime } = statementsFor(shape);
  if (!completionTime && r.completionTime !== null) throw new Error(NO_COMPLETION_TIME);
  try {
    await db.query(
      INSERT,
      columns.map((c) => r[recordField(c)]),
    );
    return true;
  } catch (error) {
    if (isDuplicateKey(error)) return false;
    throw error;
  }
}

/** Unique jobs on MySQL/MariaDB; no statement retries itself, so none can run outside the caller's transaction. */
export class MysqlUniqueJobs implements UniqueJobStore {
  constructor(
    private readonly db: MysqlQueryable,
    private readonly table: TableShapeCache,
  ) {}

  private async statements() {
    return statementsFor(await this.table.shape());
  }

  async current(id: string): Promise<BackgroundJobRecord | undefined> {
    const { CURRENT } = await this.statements();
    const [rows] = (await this.db.query(CURRENT, [id])) as [Array<Record<string, unknown>>, unknown];
    return rows[0] && recordFromRow(rows[0]);
  }

  async insertIfAbsent(row: BackgroundJobRecord): Promise<boolean> {
    return insertJobIfAbsent(this.db, await this.table.shape(), row);
  }

  async moveFinished(id: string, newId: string): Promise<boolean> {
    const { MOVE_FINISHED } = await this.statements();
    return (await this.affected(MOVE_FINISHED, [newId, id])) === 1;
  }

  async replaceWaiting(r: UniqueJobReplacement, now: Date): Promise<boolean> {
    const { REPLACE_WAITING } = await this.statements();
    return (await this.affected(REPLACE_WAITING, [r.jobArgs, r.priority, r.nextTryTime, r.newStamp, r.id, now])) === 1;
  }

  private async affected(sql: string, values: unknown[]): Promise<number> {
    const [result] = (await this.db.query(sql, values)) as [{ affectedRows: number }, unknown];
    return result.affectedRows;
  }
}

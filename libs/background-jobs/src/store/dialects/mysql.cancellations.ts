import type { Pool } from 'mysql2/promise';
import type { CancellationRequest, JobCancellationStore, WaitingJobCancellation } from '../job-cancellation-store';
import { perShape, TableShape, TableShapeCache } from '../table-shape';
import { chunk, LEASE_STAMP_LIKE, MAX_IDS_PER_STATEMENT } from './dialect-helpers';

/** Ours, beside ABP's: the requests to cancel held jobs. */
export const MYSQL_CANCELLATIONS_MIGRATION = [
  `CREATE TABLE IF NOT EXISTS \`AbpBackgroundJobCancellations\` (
  \`Id\` char(36) COLLATE ascii_general_ci NOT NULL,
  \`JobCreationTime\` datetime(6) NOT NULL,
  \`RequestedBy\` varchar(256) NULL,
  \`CreationTime\` datetime(6) NOT NULL,
  CONSTRAINT \`PK_AbpBackgroundJobCancellations\` PRIMARY KEY (\`Id\`)
) CHARACTER SET=utf8mb4`,
];

/** The statements on AbpBackgroundJobs for a table of this shape, built once per shape (see table-shape.ts). */
const statementsFor = perShape((shape: TableShape) => {
  const live = `${shape.completionTime ? 'job.`CompletionTime` IS NULL AND ' : ''}job.\`IsAbandoned\` = 0`;
  const settled = `${shape.completionTime ? 'job.`CompletionTime` IS NOT NULL OR ' : ''}job.\`IsAbandoned\` = 1`;
  return {
    ABANDON_WAITING: `UPDATE \`AbpBackgroundJobs\` AS job SET job.\`IsAbandoned\` = 1, job.\`ExtraProperties\` = ?, job.\`ConcurrencyStamp\` = ?
  WHERE job.\`Id\` = ? AND job.\`ConcurrencyStamp\` = ? AND ${live}
    AND NOT (job.\`ConcurrencyStamp\` LIKE '${LEASE_STAMP_LIKE}' AND job.\`NextTryTime\` > ?)`,
    /** A multi-table DELETE takes no LIMIT, so the settled ids are read first. */
    SETTLED: `SELECT request.\`Id\` FROM \`AbpBackgroundJobCancellations\` AS request
  LEFT JOIN \`AbpBackgroundJobs\` AS job ON job.\`Id\` = request.\`Id\`
  WHERE job.\`Id\` IS NULL OR ${settled}
  LIMIT ?`,
    /** Checked again as it deletes: a job of one of these ids may have come back meanwhile (a unique job's id). */
    DELETE_SETTLED: `DELETE FROM \`AbpBackgroundJobCancellations\` WHERE \`Id\` IN (?) AND NOT EXISTS (
  SELECT 1 FROM \`AbpBackgroundJobs\` AS job
  WHERE job.\`Id\` = \`AbpBackgroundJobCancellations\`.\`Id\` AND ${live})`,
  };
});

// VALUES() in ON DUPLICATE KEY UPDATE: the form MariaDB and MySQL 8 both read.
const REQUEST = `INSERT INTO \`AbpBackgroundJobCancellations\` (\`Id\`, \`JobCreationTime\`, \`RequestedBy\`, \`CreationTime\`)
  VALUES (?, ?, ?, ?)
  ON DUPLICATE KEY UPDATE \`JobCreationTime\` = VALUES(\`JobCreationTime\`), \`RequestedBy\` = VALUES(\`RequestedBy\`),
    \`CreationTime\` = VALUES(\`CreationTime\`)`;

const FIND_REQUESTS =
  'SELECT `Id`, `JobCreationTime`, `RequestedBy` FROM `AbpBackgroundJobCancellations` WHERE `Id` IN (?)';
const DELETE_REQUESTS = 'DELETE FROM `AbpBackgroundJobCancellations` WHERE `Id` IN (?)';
type Row = Record<string, unknown>;

export class MysqlCancellations implements JobCancellationStore {
  constructor(
    private readonly pool: Pool,
    private readonly table: TableShapeCache,
  ) {}

  private async statements() {
    return statementsFor(await this.table.shape());
  }

  async abandonWaiting(c: WaitingJobCancellation, now: Date): Promise<boolean> {
    const { ABANDON_WAITING } = await this.statements();
    const [result] = (await this.pool.query(ABANDON_WAITING, [
      c.extraProperties,
      c.newStamp,
      c.id,
      c.expectedStamp,
      now,
    ])) as [{ affectedRows: number }, unknown];
    return result.affectedRows === 1;
  }

  async request(request: CancellationRequest, now: Date): Promise<void> {
    await this.pool.query(REQUEST, [request.id, request.jobCreationTime, request.requestedBy, now]);
  }

  async findRequests(ids: string[]): Promise<CancellationRequest[]> {
    const found: CancellationRequest[] = [];
    for (const part of chunk(ids, MAX_IDS_PER_STATEMENT)) {
      const [rows] = (await this.pool.query(FIND_REQUESTS, [part])) as [Row[], unknown];
      for (const r of rows)
        found.push({
          id: (r.Id as string).toLowerCase(),
          jobCreationTime: r.JobCreationTime as Date,
          requestedBy: (r.RequestedBy as string | null) ?? null,
        });
    }
    return found;
  }

  async deleteRequests(ids: string[]): Promise<void> {
    for (const part of chunk(ids, MAX_IDS_PER_STATEMENT)) await this.pool.query(DELETE_REQUESTS, [part]);
  }

  async deleteSettledRequests(limit: number): Promise<number> {
    const { SETTLED, DELETE_SETTLED } = await this.statements();
    const [rows] = (await this.pool.query(SETTLED, [limit])) as [Row[], unknown];
    if (rows.length === 0) return 0;
    const [result] = (await this.pool.query(DELETE_SETTLED, [rows.map((r) => r.Id)])) as [
      { affectedRows: number },
      unknown,
    ];
    return result.affectedRows;
  }
}

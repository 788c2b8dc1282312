import type { Pool } from 'mysql2/promise';
import { heartbeatFromRow, WorkerHeartbeatRow, WorkerHeartbeatStore } from '../job-admin-store';

type Row = Record<string, unknown>;

const UPSERT_WORKER = `INSERT INTO \`AbpBackgroundJobWorkers\`
    (\`Id\`, \`Host\`, \`Pid\`, \`ApplicationName\`, \`JobNames\`, \`MaxParallel\`, \`Running\`, \`StartedAt\`, \`LastHeartbeat\`)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON DUPLICATE KEY UPDATE \`Host\` = VALUES(\`Host\`), \`Pid\` = VALUES(\`Pid\`), \`ApplicationName\` = VALUES(\`ApplicationName\`),
    \`JobNames\` = VALUES(\`JobNames\`), \`MaxParallel\` = VALUES(\`MaxParallel\`), \`Running\` = VALUES(\`Running\`),
    \`StartedAt\` = VALUES(\`StartedAt\`), \`LastHeartbeat\` = VALUES(\`LastHeartbeat\`)`;
const DELETE_WORKER = 'DELETE FROM `AbpBackgroundJobWorkers` WHERE `Id` = ?';
const PRUNE_WORKERS = 'DELETE FROM `AbpBackgroundJobWorkers` WHERE `LastHeartbeat` < ?';
const LIVE_WORKERS =
  'SELECT * FROM `AbpBackgroundJobWorkers` WHERE `LastHeartbeat` >= ? ORDER BY `LastHeartbeat` DESC, `Id`';

/** AbpBackgroundJobWorkers (ours, beside ABP's; MYSQL_CREATE_WORKERS makes it) on MySQL and MariaDB. */
export class MysqlWorkerHeartbeats implements WorkerHeartbeatStore {
  constructor(private readonly pool: Pool) {}

  async beat(h: WorkerHeartbeatRow): Promise<void> {
    await this.pool.query(UPSERT_WORKER, [
      h.id.toLowerCase(),
      h.host.slice(0, 256),
      h.pid,
      h.applicationName,
      JSON.stringify(h.jobNames),
      h.maxParallel,
      h.running,
      h.startedAt,
      h.lastHeartbeat,
    ]);
  }

  async remove(id: string): Promise<void> {
    await this.pool.query(DELETE_WORKER, [id.toLowerCase()]);
  }

  async prune(time: Date): Promise<number> {
    const [result] = (await this.pool.query(PRUNE_WORKERS, [time])) as [{ affectedRows: number }, unknown];
    return result.affectedRows;
  }

  async live(since: Date): Promise<WorkerHeartbeatRow[]> {
    const [rows] = (await this.pool.query(LIVE_WORKERS, [since])) as [Row[], unknown];
    return rows.map(heartbeatFromRow);
  }
}

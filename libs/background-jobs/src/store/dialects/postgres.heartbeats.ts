import type { Pool } from 'pg';
import { heartbeatFromRow, WorkerHeartbeatRow, WorkerHeartbeatStore } from '../job-admin-store';
import { toUtcText } from '../sql-time';

type Row = Record<string, unknown>;

const UPSERT_WORKER = `INSERT INTO "AbpBackgroundJobWorkers"
    ("Id", "Host", "Pid", "ApplicationName", "JobNames", "MaxParallel", "Running", "StartedAt", "LastHeartbeat")
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
  ON CONFLICT ("Id") DO UPDATE SET "Host" = excluded."Host", "Pid" = excluded."Pid",
    "ApplicationName" = excluded."ApplicationName", "JobNames" = excluded."JobNames", "MaxParallel" = excluded."MaxParallel",
    "Running" = excluded."Running", "StartedAt" = excluded."StartedAt", "LastHeartbeat" = excluded."LastHeartbeat"`;
const DELETE_WORKER = `DELETE FROM "AbpBackgroundJobWorkers" WHERE "Id" = $1`;
const PRUNE_WORKERS = `DELETE FROM "AbpBackgroundJobWorkers" WHERE "LastHeartbeat" < $1`;
const LIVE_WORKERS = `SELECT "Id", "Host", "Pid", "ApplicationName", "JobNames", "MaxParallel", "Running", "StartedAt", "LastHeartbeat"
  FROM "AbpBackgroundJobWorkers" WHERE "LastHeartbeat" >= $1 ORDER BY "LastHeartbeat" DESC, "Id"`;

/** AbpBackgroundJobWorkers (ours, beside ABP's; POSTGRES_ADMIN_MIGRATION makes it) on PostgreSQL. */
export class PostgresWorkerHeartbeats implements WorkerHeartbeatStore {
  constructor(private readonly pool: Pool) {}

  async beat(h: WorkerHeartbeatRow): Promise<void> {
    await this.pool.query({
      name: 'bj_worker_beat',
      text: UPSERT_WORKER,
      values: [
        h.id,
        h.host.slice(0, 256),
        h.pid,
        h.applicationName,
        JSON.stringify(h.jobNames),
        h.maxParallel,
        h.running,
        toUtcText(h.startedAt),
        toUtcText(h.lastHeartbeat),
      ],
    });
  }

  async remove(id: string): Promise<void> {
    await this.pool.query({ name: 'bj_worker_remove', text: DELETE_WORKER, values: [id] });
  }

  async prune(time: Date): Promise<number> {
    return (
      (await this.pool.query({ name: 'bj_worker_prune', text: PRUNE_WORKERS, values: [toUtcText(time)] })).rowCount ?? 0
    );
  }

  async live(since: Date): Promise<WorkerHeartbeatRow[]> {
    const result = await this.pool.query({ name: 'bj_worker_live', text: LIVE_WORKERS, values: [toUtcText(since)] });
    return (result.rows as Row[]).map(heartbeatFromRow);
  }
}

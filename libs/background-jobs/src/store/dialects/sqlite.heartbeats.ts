import type { Database } from 'better-sqlite3';
import { heartbeatFromRow, WorkerHeartbeatRow, WorkerHeartbeatStore } from '../job-admin-store';
import { toUtcText } from '../sql-time';

type Row = Record<string, unknown>;

const UPSERT_WORKER = `INSERT INTO "AbpBackgroundJobWorkers"
    ("Id", "Host", "Pid", "ApplicationName", "JobNames", "MaxParallel", "Running", "StartedAt", "LastHeartbeat")
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT ("Id") DO UPDATE SET "Host" = excluded."Host", "Pid" = excluded."Pid",
    "ApplicationName" = excluded."ApplicationName", "JobNames" = excluded."JobNames", "MaxParallel" = excluded."MaxParallel",
    "Running" = excluded."Running", "StartedAt" = excluded."StartedAt", "LastHeartbeat" = excluded."LastHeartbeat"`;
const DELETE_WORKER = `DELETE FROM "AbpBackgroundJobWorkers" WHERE "Id" = ?`;
const PRUNE_WORKERS = `DELETE FROM "AbpBackgroundJobWorkers" WHERE "LastHeartbeat" < ?`;
const LIVE_WORKERS = `SELECT * FROM "AbpBackgroundJobWorkers" WHERE "LastHeartbeat" >= ? ORDER BY "LastHeartbeat" DESC, "Id"`;

/** AbpBackgroundJobWorkers (ours, beside ABP's; SQLITE_ADMIN_MIGRATION makes it) on SQLite. */
export class SqliteWorkerHeartbeats implements WorkerHeartbeatStore {
  constructor(private readonly db: Database) {}

  async beat(h: WorkerHeartbeatRow): Promise<void> {
    this.db
      .prepare(UPSERT_WORKER)
      .run(
        h.id.toUpperCase(),
        h.host,
        h.pid,
        h.applicationName,
        JSON.stringify(h.jobNames),
        h.maxParallel,
        h.running,
        toUtcText(h.startedAt),
        toUtcText(h.lastHeartbeat),
      );
  }

  async remove(id: string): Promise<void> {
    this.db.prepare(DELETE_WORKER).run(id.toUpperCase());
  }

  async prune(time: Date): Promise<number> {
    return this.db.prepare(PRUNE_WORKERS).run(toUtcText(time)).changes;
  }

  async live(since: Date): Promise<WorkerHeartbeatRow[]> {
    return (this.db.prepare(LIVE_WORKERS).all(toUtcText(since)) as Row[]).map(heartbeatFromRow);
  }
}

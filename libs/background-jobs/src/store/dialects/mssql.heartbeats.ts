import { heartbeatFromRow, WorkerHeartbeatRow, WorkerHeartbeatStore } from '../job-admin-store';
import { SqlParam, SqlRunner } from './mssql-runner';

const UPSERT_WORKER = `UPDATE [AbpBackgroundJobWorkers] WITH (ROWLOCK)
SET [Host] = @host, [Pid] = @pid, [ApplicationName] = @applicationName, [JobNames] = @jobNames, [MaxParallel] = @maxParallel,
    [Running] = @running, [StartedAt] = @startedAt, [LastHeartbeat] = @lastHeartbeat
WHERE [Id] = @id;
IF @@ROWCOUNT = 0
  INSERT INTO [AbpBackgroundJobWorkers] ([Id], [Host], [Pid], [ApplicationName], [JobNames], [MaxParallel], [Running], [StartedAt], [LastHeartbeat])
  VALUES (@id, @host, @pid, @applicationName, @jobNames, @maxParallel, @running, @startedAt, @lastHeartbeat);`;
const DELETE_WORKER = 'DELETE FROM [AbpBackgroundJobWorkers] WHERE [Id] = @id;';
const PRUNE_WORKERS = 'DELETE FROM [AbpBackgroundJobWorkers] WHERE [LastHeartbeat] < @before;';
const LIVE_WORKERS = `SELECT [Id], [Host], [Pid], [ApplicationName], [JobNames], [MaxParallel], [Running], [StartedAt], [LastHeartbeat]
FROM [AbpBackgroundJobWorkers] WHERE [LastHeartbeat] >= @since ORDER BY [LastHeartbeat] DESC, [Id];`;

/** AbpBackgroundJobWorkers (ours, beside ABP's; MSSQL_ADMIN_MIGRATION makes it) on SQL Server. */
export class MssqlWorkerHeartbeats implements WorkerHeartbeatStore {
  constructor(private readonly sql: SqlRunner) {}

  async beat(h: WorkerHeartbeatRow): Promise<void> {
    await this.sql.query(UPSERT_WORKER, [
      { name: 'id', type: 'uniqueidentifier', value: h.id },
      { name: 'host', type: 'nvarchar(256)', value: h.host.slice(0, 256) },
      int('pid', h.pid),
      { name: 'applicationName', type: 'nvarchar(96)', value: h.applicationName },
      { name: 'jobNames', type: 'nvarchar(max)', value: JSON.stringify(h.jobNames) },
      int('maxParallel', h.maxParallel),
      int('running', h.running),
      { name: 'startedAt', type: 'datetime2', value: h.startedAt },
      { name: 'lastHeartbeat', type: 'datetime2', value: h.lastHeartbeat },
    ]);
  }

  async remove(id: string): Promise<void> {
    await this.sql.query(DELETE_WORKER, [{ name: 'id', type: 'uniqueidentifier', value: id }]);
  }

  async prune(time: Date): Promise<number> {
    return (await this.sql.query(PRUNE_WORKERS, [{ name: 'before', type: 'datetime2', value: time }])).rowsAffected;
  }

  async live(since: Date): Promise<WorkerHeartbeatRow[]> {
    const { rows } = await this.sql.query(LIVE_WORKERS, [{ name: 'since', type: 'datetime2', value: since }]);
    return rows.map(heartbeatFromRow);
  }
}

function int(name: string, value: number): SqlParam {
  return { name, type: 'int', value };
}

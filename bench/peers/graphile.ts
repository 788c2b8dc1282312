import { EventEmitter } from 'node:events';
import type { Client } from 'pg';
import { Logger, run, runMigrations, WorkerEvents } from 'graphile-worker';
import { logJob } from '../job-log';
import { BenchDatabase, createDatabase, openClient } from '../support/postgres';
import type { NodeProcess } from '../../test/support/node-process';
import { clockMs } from '../support/processes';
import { LatencyProbe, SystemUnderTest } from '../system';
import { startPeerConsumer } from './start-consumer';

export interface GraphileConfig {
  concurrency: number;
  /** localQueue.size 500 and completeJobBatchDelay/failJobBatchDelay 0; otherwise graphile's defaults. */
  batched: boolean;
}

const TASK = 'my_report';
/** Exactly what WorkerUtils.addJobs sends: one add_jobs call with the array of job specs. */
const ADD_JOBS = `SELECT count(*)::int AS n FROM graphile_worker.add_jobs(
  array(SELECT json_populate_recordset(null::graphile_worker.job_spec, $1::json)), false)`;

export class GraphileSystem implements SystemUnderTest {
  readonly system: string;
  readonly store = 'PostgreSQL' as const;
  private database?: BenchDatabase;
  private client?: Client;

  constructor(private readonly config: GraphileConfig) {
    this.system = config.batched
      ? `graphile-worker 0.17.3, concurrency ${config.concurrency}, localQueue 500, batch delays 0`
      : `graphile-worker 0.17.3, concurrency ${config.concurrency}, defaults`;
  }

  async prepare(): Promise<void> {
    this.database = await createDatabase('graphile');
    await runMigrations({ connectionString: this.database.url, logger: quietLogger() });
    this.client = await openClient(this.database.url);
  }

  async enqueueBatch(contents: string[]): Promise<void> {
    const specs = contents.map((content) => ({ identifier: TASK, payload: { content } }));
    await this.client!.query(ADD_JOBS, [JSON.stringify(specs)]);
  }

  async remaining(): Promise<number> {
    return (await this.client!.query<{ n: number }>('SELECT count(*)::int AS n FROM graphile_worker._private_jobs'))
      .rows[0].n;
  }

  async clear(): Promise<void> {
    await this.client!.query('DELETE FROM graphile_worker._private_jobs');
  }

  startConsumer(): Promise<NodeProcess> {
    // NO_LOG_SUCCESS: graphile's own "Completed task" info line would be a second line per job.
    return startPeerConsumer('graphile', { url: this.database!.url, ...this.config }, { NO_LOG_SUCCESS: '1' });
  }

  latencyProbes(): LatencyProbe[] {
    return [
      {
        label: 'add_job -> job start',
        enqueue: async (content) => {
          const sent = clockMs();
          await this.client!.query('SELECT graphile_worker.add_job($1, json_build_object($2::text, $3::text))', [
            TASK,
            'content',
            content,
          ]);
          return sent;
        },
      },
    ];
  }

  async dispose(): Promise<void> {
    await this.client?.end().catch(() => undefined);
    await this.database?.drop();
  }
}

/** Child side. */
export async function consumeGraphile(config: GraphileConfig & { url: string }): Promise<() => Promise<void>> {
  const events: WorkerEvents = new EventEmitter() as WorkerEvents;
  const listening = new Promise<void>((resolve) => events.once('pool:listen:success', () => resolve()));
  const runner = await run({
    connectionString: config.url,
    concurrency: config.concurrency,
    noHandleSignals: true,
    logger: quietLogger(),
    events,
    taskList: { [TASK]: async (payload) => logJob((payload as { content: string }).content) },
    preset: config.batched
      ? { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } }
      : undefined,
  });
  await listening;
  return () => runner.stop();
}

/** graphile's own messages: warnings and errors to stderr only. */
function quietLogger(): Logger {
  return new Logger(() => (level, message) => {
    if (level === 'error' || level === 'warning') process.stderr.write(`[graphile ${level}] ${message}\n`);
  });
}

import type { Client } from 'pg';
import PgBoss from 'pg-boss';
import { logJob } from '../job-log';
import { onCleanup } from '../support/cleanup';
import { BenchDatabase, createDatabase, openClient } from '../support/postgres';
import type { NodeProcess } from '../../test/support/node-process';
import { SystemUnderTest } from '../system';
import { startPeerConsumer } from './start-consumer';

export interface PgBossConfig {
  workers: number;
  batchSize: number;
  pollingIntervalSeconds: number;
}

const QUEUE = 'my-report';

export class PgBossSystem implements SystemUnderTest {
  readonly system: string;
  readonly store = 'PostgreSQL' as const;
  private database?: BenchDatabase;
  private boss?: PgBoss;
  private client?: Client;
  private stopBoss?: () => Promise<void>;

  constructor(private readonly config: PgBossConfig) {
    this.system = `pg-boss 10.4.2, ${config.workers} workers, batchSize ${config.batchSize}, poll ${config.pollingIntervalSeconds} s`;
  }

  async prepare(): Promise<void> {
    this.database = await createDatabase('pgboss');
    // The producer: no maintenance or cron of its own.
    const boss = new PgBoss({ connectionString: this.database.url, supervise: false, schedule: false });
    boss.on('error', (error) => process.stderr.write(`[pg-boss] ${String(error)}\n`));
    await boss.start();
    this.boss = boss;
    this.stopBoss = onCleanup('stop pg-boss producer', () =>
      boss.stop({ graceful: false, wait: true }).catch(() => undefined),
    );
    await boss.createQueue(QUEUE);
    this.client = await openClient(this.database.url);
  }

  /** Burn-down: one insert of every job. */
  async enqueueBatch(contents: string[]): Promise<void> {
    await this.boss!.insert(contents.map((content) => ({ name: QUEUE, data: { content } })));
  }

  /** Enqueue rate: inserts of 1000. */
  async enqueueForRate(contents: string[]): Promise<void> {
    for (let i = 0; i < contents.length; i += 1000) {
      await this.boss!.insert(contents.slice(i, i + 1000).map((content) => ({ name: QUEUE, data: { content } })));
    }
  }

  async remaining(): Promise<number> {
    const { rows } = await this.client!.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state < 'completed'`,
      [QUEUE],
    );
    return rows[0].n;
  }

  async clear(): Promise<void> {
    await this.client!.query('DELETE FROM pgboss.job WHERE name = $1', [QUEUE]);
  }

  startConsumer(): Promise<NodeProcess> {
    return startPeerConsumer('pg-boss', { url: this.database!.url, ...this.config });
  }

  async dispose(): Promise<void> {
    await this.stopBoss?.();
    await this.client?.end().catch(() => undefined);
    await this.database?.drop();
  }
}

/** Child side: a pg-boss with its defaults, `workers` work() subscriptions. */
export async function consumePgBoss(config: PgBossConfig & { url: string }): Promise<() => Promise<void>> {
  const boss = new PgBoss({ connectionString: config.url });
  boss.on('error', (error) => process.stderr.write(`[pg-boss] ${String(error)}\n`));
  await boss.start();
  for (let i = 0; i < config.workers; i++) {
    await boss.work<{ content: string }>(
      QUEUE,
      { batchSize: config.batchSize, pollingIntervalSeconds: config.pollingIntervalSeconds },
      async (jobs) => {
        for (const job of jobs) logJob(job.data.content);
      },
    );
  }
  return () => boss.stop({ graceful: true, wait: true, timeout: 5000 });
}

import { randomBytes } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { logJob } from '../job-log';
import { onCleanup } from '../support/cleanup';
import type { NodeProcess } from '../../test/support/node-process';
import { SystemUnderTest } from '../system';
import { startPeerConsumer } from './start-consumer';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const QUEUE = 'my-report';

export interface BullmqConfig {
  concurrency: number;
}

/** On Redis, under a key prefix of this run's own; only those keys are deleted afterwards. */
export class BullmqSystem implements SystemUnderTest {
  readonly system: string;
  readonly store = 'Redis' as const;
  private readonly prefix = `bjbench-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  private redis?: IORedis;
  private queue?: Queue;
  private cleanKeys?: () => Promise<void>;

  constructor(private readonly config: BullmqConfig) {
    this.system = `BullMQ 6.7.0, concurrency ${config.concurrency}`;
  }

  async prepare(): Promise<void> {
    const redis = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
    this.redis = redis;
    this.cleanKeys = onCleanup(`delete Redis keys ${this.prefix}:*`, () => this.deleteKeys());
    this.queue = new Queue(QUEUE, { connection: redis, prefix: this.prefix });
    await this.queue.waitUntilReady();
  }

  async enqueueBatch(contents: string[]): Promise<void> {
    await this.queue!.addBulk(
      contents.map((content) => ({ name: QUEUE, data: { content }, opts: { removeOnComplete: true } })),
    );
  }

  async remaining(): Promise<number> {
    const counts = await this.queue!.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'waiting-children');
    return Object.values(counts).reduce((a, b) => a + b, 0);
  }

  async clear(): Promise<void> {
    await this.queue!.drain(true);
  }

  startConsumer(): Promise<NodeProcess> {
    return startPeerConsumer('bullmq', { url: REDIS_URL, prefix: this.prefix, ...this.config });
  }

  async dispose(): Promise<void> {
    await this.queue?.close().catch(() => undefined);
    await this.cleanKeys?.();
  }

  private async deleteKeys(): Promise<void> {
    const redis = this.redis;
    if (!redis || redis.status === 'end') return;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${this.prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
    await redis.quit().catch(() => undefined);
  }
}

/** Child side. */
export async function consumeBullmq(
  config: BullmqConfig & { url: string; prefix: string },
): Promise<() => Promise<void>> {
  const connection = new IORedis(config.url, { maxRetriesPerRequest: null });
  const worker = new Worker<{ content: string }>(QUEUE, async (job) => logJob(job.data.content), {
    connection,
    prefix: config.prefix,
    concurrency: config.concurrency,
  });
  worker.on('error', (error) => process.stderr.write(`[bullmq] ${String(error)}\n`));
  await worker.waitUntilReady();
  return async () => {
    await worker.close();
    await connection.quit().catch(() => undefined);
  };
}

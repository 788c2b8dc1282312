import { randomBytes, randomUUID } from 'node:crypto';
import type { EnqueueBatch } from '@app/background-jobs';
import { describeOnScaleBackends } from './support/describe-on-scale-backends';
import { executionsById } from './support/fixture-worker';
import { report } from './support/report';
import { waitFor } from '../support/wait-for';

jest.setTimeout(120_000);

const POLL_MS = 500;

function batchOf(n: number): EnqueueBatch {
  const now = new Date();
  return {
    applicationName: null,
    creationTime: now,
    jobs: Array.from({ length: n }, (_, i) => ({
      id: randomUUID(),
      jobName: 'FixtureSleep',
      jobArgs: JSON.stringify({ ms: 0, n: i }),
      priority: 15,
      nextTryTime: now,
      concurrencyStamp: randomBytes(16).toString('hex'),
    })),
  };
}

describeOnScaleBackends("jobs enqueued in the caller's transaction", (ctx) => {
  it('never run when it rolls back; run once it commits, and not before', async () => {
    const [worker] = await ctx.startWorkers(1, { JobPollPeriod: POLL_MS });
    const { dataSource } = ctx.database;

    const rolledBack = batchOf(5);
    await dataSource
      .transaction(async (manager) => {
        await ctx.store.withinTransaction(manager).enqueue(rolledBack);
        await new Promise((resolve) => setTimeout(resolve, 3 * POLL_MS));
        throw new Error('roll back');
      })
      .catch(() => undefined);

    const committed = batchOf(5);
    let committedAt = 0;
    await dataSource.transaction(async (manager) => {
      await ctx.store.withinTransaction(manager).enqueue(committed);
      // The worker polls (and on PostgreSQL is woken) meanwhile: nothing of this may run yet.
      await new Promise((resolve) => setTimeout(resolve, 3 * POLL_MS));
      committedAt = Date.now();
    });
    const runs = () => executionsById([worker]);
    await waitFor('the committed jobs to run', () => committed.jobs.every((j) => runs().has(j.id)), 15_000, 10);
    await new Promise((resolve) => setTimeout(resolve, 3 * POLL_MS));

    const started = committed.jobs.map(
      (j) => worker.linesMatching((l) => l.msg === 'fixture-started' && l.jobId === j.id)[0].time!,
    );
    report("caller's transaction", {
      backend: ctx.name,
      firstStartAfterCommitMs: Math.min(...started) - committedAt,
    });
    for (const job of rolledBack.jobs) {
      expect(runs().has(job.id)).toBe(false);
      expect(await ctx.store.find(job.id)).toBeUndefined();
    }
    for (const job of committed.jobs) expect(runs().get(job.id)).toBe(1);
    expect(Math.min(...started)).toBeGreaterThanOrEqual(committedAt);
  });
});

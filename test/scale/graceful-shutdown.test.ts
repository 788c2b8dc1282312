import { isLeaseStamp } from '@app/background-jobs';
import { describeOnScaleBackends } from './support/describe-on-scale-backends';
import { executionsById, stopDurationMs } from './support/fixture-worker';
import { insertJobs, jobRow, remainingRows } from './support/scale-database';
import { waitFor } from '../support/wait-for';
import { report } from './support/report';
import { startWorkerBusyWithFour } from './support/worker-busy-with-four';

jest.setTimeout(120_000);

const HIGH = 25;
/**
 * From SIGTERM to the process's close: the worker's stop (bounded tightly below, from its own log)
 * plus Nest's shutdown and the process's exit, which on two shared cores can take seconds.
 */
const CLOSE_WITHIN_MS = 10_000;

describeOnScaleBackends('SIGTERM while jobs run', (ctx) => {
  it('finishes what fits in ShutdownTimeout, releases the rest, exits 0, and another worker finishes everything', async () => {
    const { store } = ctx;
    // Priority decides which four run first: two finish within the shutdown timeout, two cannot.
    const short = [0, 1].map((i) => jobRow('FixtureSleep', { ms: 400, kind: 'short', i }, { priority: HIGH }));
    const long = [0, 1].map((i) => jobRow('FixtureSleep', { ms: 3000, kind: 'long', i }, { priority: HIGH }));
    const queued = Array.from({ length: 8 }, (_, i) => jobRow('FixtureSleep', { ms: 100, kind: 'queued', i }));
    const ids = await insertJobs(store, [...short, ...long, ...queued]);
    const first = await startWorkerBusyWithFour(ctx);

    const termAt = Date.now();
    const exit = await first.stop('SIGTERM');
    const closeMs = Date.now() - termAt;
    const shutdownMs = stopDurationMs(first);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(shutdownMs).toBeLessThan(3000);
    expect(closeMs).toBeLessThan(CLOSE_WITHIN_MS);

    const finished = new Set(first.linesMatching((l) => l.msg === 'fixture-finished').map((l) => l.jobId));
    expect([...finished].sort()).toEqual(short.map((r) => r.id).sort());
    const rows = await remainingRows(ctx.database);
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(rows.length).toBe(10);
    for (const row of rows) {
      expect(isLeaseStamp(row.concurrencyStamp)).toBe(false);
      expect(row.nextTryTime.getTime()).toBeLessThanOrEqual(Date.now());
    }
    // An aborted job had its try; a queued one never started, so its claim is undone.
    for (const r of long) expect(byId.get(r.id)!.tryCount).toBe(1);
    for (const r of queued) expect(byId.get(r.id)!.tryCount).toBe(0);
    const stopped = first.linesMatching((l) => l.msg.startsWith('Worker stopped'))[0]?.msg;
    report(`graceful-shutdown ${ctx.name}`, {
      shutdownMs,
      closeMs,
      finished: finished.size,
      released: rows.length,
      stopped,
    });

    const second = await ctx.startWorker({ MaxParallelJobExecutionCount: 4, JobLeaseDuration: 2, JobPollPeriod: 200 });
    await waitFor('the table to empty', async () => (await store.count()) === 0, 30_000, 100);
    expect(await second.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    const done = new Set(
      ctx.workers.flatMap((w) => w.linesMatching((l) => l.msg === 'fixture-finished')).map((l) => l.jobId),
    );
    expect(ids.filter((id) => !done.has(id))).toEqual([]);
    expect(executionsById([second]).size).toBe(10);
  });

  it('exits 0 and releases the row of a job that ignores its AbortSignal past ShutdownTimeout', async () => {
    const { store } = ctx;
    const stubborn = jobRow('FixtureStubborn', { ms: 8000 });
    await insertJobs(store, [stubborn]);
    const worker = await ctx.startWorker({ JobLeaseDuration: 2, JobPollPeriod: 200, ShutdownTimeout: 1 });
    await waitFor(
      'the stubborn job to start',
      () => worker.linesMatching((l) => l.msg === 'fixture-started').length >= 1,
      10_000,
      10,
    );

    const termAt = Date.now();
    expect(await worker.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    const closeMs = Date.now() - termAt;
    const shutdownMs = stopDurationMs(worker);
    expect(shutdownMs).toBeLessThan(4000);
    expect(closeMs).toBeLessThan(CLOSE_WITHIN_MS);
    expect(worker.hasLine((l) => l.msg === 'fixture-finished')).toBe(false);
    expect(worker.hasLine((l) => /still running after 1000 ms; aborting/.test(l.msg))).toBe(true);

    const released = (await store.find(stubborn.id))!;
    expect(isLeaseStamp(released.concurrencyStamp)).toBe(false);
    expect(released.nextTryTime.getTime()).toBeLessThanOrEqual(Date.now());
    report(`stubborn-shutdown ${ctx.name}`, { shutdownMs, closeMs, tryCount: released.tryCount });
  });
});

import { cancelJob } from '@app/background-jobs/cancellation/cancel-job';
import { describeOnScaleBackends } from './support/describe-on-scale-backends';
import { insertJobs, jobRow } from './support/scale-database';
import { report } from './support/report';
import { waitFor } from '../support/wait-for';

jest.setTimeout(120_000);

describeOnScaleBackends('cancel of a running job', (ctx) => {
  it('aborts it in the worker that runs it, within about a second, and leaves its row abandoned as cancelled', async () => {
    const workers = await ctx.startWorkers(2, { MaxParallelJobExecutionCount: 2, JobPollPeriod: 500 });
    const [running, waiting] = await insertJobs(ctx.store, [
      jobRow('FixtureSleep', { ms: 60_000, n: 1 }),
      jobRow('FixtureSleep', { ms: 60_000, n: 2 }, { nextTryTime: new Date(Date.now() + 3_600_000) }),
    ]);
    const startedLine = await waitFor('the job to start', () =>
      workers.flatMap((w) => w.linesMatching((l) => l.msg === 'fixture-started' && l.jobId === running)).at(0),
    );
    const runner = workers.find((w) => w.pid === startedLine.pid)!;

    const requestedAt = Date.now();
    expect(await cancelJob(ctx.store, running, 'scale-test')).toBe('cancelling');
    expect(await cancelJob(ctx.store, waiting, 'scale-test')).toBe('cancelled');
    const cancelled = await runner.waitForLog((l) => l.msg.startsWith(`Cancelled job ${running}`), 10_000);
    const latencyMs = cancelled.time! - requestedAt;
    const row = await waitFor('the row to be abandoned', async () => {
      const r = await ctx.store.find(running);
      return r?.isAbandoned ? r : undefined;
    });
    report('cancel a running job', { backend: ctx.name, abortedAfterMs: latencyMs });

    expect(latencyMs).toBeLessThan(1500);
    expect(JSON.parse(row.extraProperties)).toMatchObject({ LastError: 'cancelled', CancelledBy: 'scale-test' });
    expect(runner.hasLine((l) => l.msg === 'fixture-finished' && l.jobId === running)).toBe(false);
    expect((await ctx.store.find(waiting))?.isAbandoned).toBe(true);
    // Not run again anywhere.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(
      workers.flatMap((w) => w.linesMatching((l) => l.msg === 'fixture-started' && l.jobId === running)),
    ).toHaveLength(1);
  });
});

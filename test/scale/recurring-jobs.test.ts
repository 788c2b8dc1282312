import { saveSchedule } from '@app/background-jobs/schedules/save-schedule';
import { describeOnScaleBackends } from './support/describe-on-scale-backends';
import { executionsById } from './support/fixture-worker';
import { report } from './support/report';
import { waitFor } from '../support/wait-for';

jest.setTimeout(120_000);

const RUN_MS = 20_000;

describeOnScaleBackends('a schedule that fires every second', (ctx) => {
  it('runs each occurrence exactly once on three workers, with no leader', async () => {
    const workers = await ctx.startWorkers(3, { MaxParallelJobExecutionCount: 2, JobPollPeriod: 1000 });
    await saveSchedule(
      ctx.store.schedules,
      {
        name: 'every-second',
        applicationName: null,
        jobName: 'FixtureSleep',
        jobArgs: '{"ms":10}',
        cron: '* * * * * *',
        timeZone: null,
        priority: 15,
        source: 'runtime',
      },
      new Date(),
    );
    const startedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, RUN_MS));
    await ctx.store.schedules.setPaused('every-second', true, new Date());
    const stoppedAt = Date.now();

    // Every occurrence some worker enqueued, from their log lines; each job must then have run.
    const enqueuedLine = /^Recurring job "every-second" enqueued FixtureSleep (\S+) for (\S+)$/;
    const enqueued = () =>
      workers.flatMap((w) =>
        w.linesMatching(enqueuedLine).map((l) => {
          const [, id, occurrence] = enqueuedLine.exec(l.msg)!;
          return { id, occurrence, pid: w.pid };
        }),
      );
    await waitFor(
      'every enqueued occurrence to run',
      () => enqueued().every(({ id }) => executionsById(workers).has(id)),
      15_000,
    );
    const occurrences = enqueued();
    const runs = executionsById(workers);
    const times = occurrences.map((o) => new Date(o.occurrence).getTime()).sort((a, b) => a - b);
    const distinct = new Set(times);
    const gaps = times.slice(1).filter((t, i) => t - times[i] !== 1000);
    report('recurring every second', {
      backend: ctx.name,
      occurrences: occurrences.length,
      byWorker: workers.map((w) => occurrences.filter((o) => o.pid === w.pid).length),
      gaps: gaps.length,
    });

    expect(distinct.size).toBe(occurrences.length);
    expect(new Set(occurrences.map((o) => o.id)).size).toBe(occurrences.length);
    for (const { id } of occurrences) expect(runs.get(id)).toBe(1);
    expect([...runs.keys()].sort()).toEqual(occurrences.map((o) => o.id).sort());
    expect(gaps).toEqual([]);
    // The first within the refresh period (1 s) of the schedule's creation, then one per second until paused.
    expect(times[0] - startedAt).toBeLessThan(2500);
    expect(occurrences.length).toBeGreaterThanOrEqual(Math.floor((stoppedAt - startedAt) / 1000) - 2);
  });
});

import { describeOnScaleBackends } from './support/describe-on-scale-backends';
import { insertJobs, jobRow } from './support/scale-database';
import { waitFor } from '../support/wait-for';
import { report } from './support/report';

jest.setTimeout(60_000);

describeOnScaleBackends('workers claim only their own job names', (ctx) => {
  it('a dedicated worker (JobNames) runs one type; no worker touches a job name no process registered', async () => {
    const { store } = ctx;
    const foreign = jobRow('AnotherApp.ReportJobArgs', { content: 'not ours' });
    const sleeps = Array.from({ length: 20 }, (_, i) => jobRow('FixtureSleep', { i }));
    const others = Array.from({ length: 20 }, (_, i) => jobRow('FixtureOther', { i }));
    await insertJobs(store, [foreign, ...sleeps, ...others]);
    const untouched = async (id: string) => {
      const before = [foreign, ...sleeps].find((r) => r.id === id)!;
      const now = (await store.find(id))!;
      return (
        now.tryCount === 0 &&
        now.concurrencyStamp === before.concurrencyStamp &&
        now.nextTryTime.getTime() === before.nextTryTime.getTime() &&
        !now.isAbandoned
      );
    };

    const dedicated = await ctx.startWorker({
      JobNames: 'FixtureOther',
      MaxParallelJobExecutionCount: 4,
      JobPollPeriod: 100,
    });
    const othersGone = async () =>
      (await Promise.all(others.map((r) => store.find(r.id)))).every((r) => r === undefined);
    await waitFor('the FixtureOther rows to be done', othersGone, 20_000, 50);
    // Rows it may not run, enqueued later than it finished its own: proves it kept polling past them.
    const marker = jobRow('FixtureOther', { marker: true }, { nextTryTime: new Date(Date.now() + 500) });
    await insertJobs(store, [marker]);
    await waitFor(
      'the delayed FixtureOther row to be done',
      async () => (await store.find(marker.id)) === undefined,
      10_000,
      50,
    );
    expect(dedicated.hasLine((l) => l.msg === 'fixture-started' && l.jobName !== 'FixtureOther')).toBe(false);
    for (const r of sleeps) expect(await untouched(r.id)).toBe(true);
    expect(dedicated.hasLine((l) => l.msg.includes('jobs=[FixtureOther]'))).toBe(true);

    const general = await ctx.startWorker({ MaxParallelJobExecutionCount: 4, JobPollPeriod: 100 });
    const sleepsGone = async () =>
      (await Promise.all(sleeps.map((r) => store.find(r.id)))).every((r) => r === undefined);
    await waitFor('the FixtureSleep rows to be done', sleepsGone, 20_000, 50);
    const later = jobRow('FixtureSleep', { marker: true }, { nextTryTime: new Date(Date.now() + 1000) });
    await insertJobs(store, [later]);
    await waitFor(
      'the delayed FixtureSleep row to be done',
      async () => (await store.find(later.id)) === undefined,
      10_000,
      50,
    );

    expect(await untouched(foreign.id)).toBe(true);
    expect(await store.count()).toBe(1);
    const exits = await Promise.all(ctx.workers.map((w) => w.stop('SIGTERM')));
    expect(exits).toEqual(ctx.workers.map(() => ({ code: 0, signal: null })));
    report(`job-names ${ctx.name}`, {
      dedicatedRan: dedicated.linesMatching((l) => l.msg === 'fixture-started').length,
      generalRan: general.linesMatching((l) => l.msg === 'fixture-started').length,
      foreignTryCount: (await store.find(foreign.id))!.tryCount,
    });
  });
});

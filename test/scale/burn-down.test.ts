import { describeOnScaleBackends } from './support/describe-on-scale-backends';
import { executionsById } from './support/fixture-worker';
import { insertJobs, jobRow, remainingRows } from './support/scale-database';
import { waitFor } from '../support/wait-for';
import { report } from './support/report';

jest.setTimeout(120_000);

const JOBS = 3000;
const WORKERS = 4;

describeOnScaleBackends('several worker processes burn down one table', (ctx) => {
  it(`runs each of ${JOBS} jobs exactly once across ${WORKERS} workers and empties the table`, async () => {
    const { store } = ctx;
    // All four poll before the first row exists: a worker that took longer to start (four Node
    // processes on two cores) would otherwise find the table already emptied by the others.
    const workers = await ctx.startWorkers(WORKERS, {
      MaxParallelJobExecutionCount: 8,
      JobLeaseDuration: 2,
      JobPollPeriod: 200,
    });
    const started = Date.now();
    const ids = await insertJobs(
      store,
      Array.from({ length: JOBS }, (_, i) => jobRow('FixtureSleep', { n: i })),
    );

    await waitFor('the table to empty', async () => (await store.count()) === 0, 60_000, 100);
    const elapsed = Date.now() - started;
    const exits = await Promise.all(workers.map((w) => w.stop('SIGTERM')));

    const counts = executionsById(workers);
    const duplicates = [...counts.values()].filter((n) => n > 1).length;
    const perWorker = workers.map((w) => w.linesMatching((l) => l.msg === 'fixture-started').length);
    const refused = workers.flatMap((w) => w.linesMatching((l) => /not written: their lease had passed/.test(l.msg)));
    report(`burn-down ${ctx.name}`, {
      jobs: JOBS,
      workers: WORKERS,
      seconds: (elapsed / 1000).toFixed(1),
      perWorker,
      duplicates,
    });

    expect(exits).toEqual(workers.map(() => ({ code: 0, signal: null })));
    expect(ids.filter((id) => counts.get(id) !== 1)).toEqual([]);
    expect(counts.size).toBe(JOBS);
    expect(refused).toEqual([]);
    expect(await remainingRows(ctx.database)).toEqual([]);
    // Four processes polling one table share it; none should sit idle.
    expect(perWorker.filter((n) => n === 0)).toEqual([]);
  });
});

import { describeOnScaleBackends } from './support/describe-on-scale-backends';
import { executionsById } from './support/fixture-worker';
import { insertJobs, jobRow, remainingRows } from './support/scale-database';
import { waitFor } from '../support/wait-for';
import { report } from './support/report';

jest.setTimeout(120_000);

const JOBS = 10_000;
const PARALLEL = 8;
/** UNWRITTEN_RESULTS_PER_SLOT: jobs per slot that may run or wait for their result's write. */
const RERUN_BOUND = 4 * PARALLEL;

/**
 * Results are written in batches, so a worker killed mid-run loses the results it had not written
 * yet and those jobs run again. The worker starts no job while 4 x MaxParallel jobs are running or
 * unwritten, so that is the most a SIGKILL can make run twice, however fast it was going.
 */
describeOnScaleBackends('a worker killed in the middle of a burn-down', (ctx) => {
  it(`makes at most 4 x MaxParallelJobExecutionCount (${RERUN_BOUND}) jobs run again`, async () => {
    const settings = { MaxParallelJobExecutionCount: PARALLEL, JobLeaseDuration: 2, JobPollPeriod: 200 };
    const [victim, survivor] = await ctx.startWorkers(2, settings);
    const ids = await insertJobs(
      ctx.store,
      Array.from({ length: JOBS }, (_, i) => jobRow('FixtureSleep', { n: i })),
      2000,
    );

    const started = () => victim.linesMatching((l) => l.msg === 'fixture-started').length;
    await waitFor('the victim to be in full flow', () => started() >= 1500, 60_000, 2);
    victim.kill('SIGKILL');
    await victim.closedWithin(10_000);
    const victimStarted = started();

    // The survivor runs the rest, and the victim's rows once their lease has ended.
    await waitFor('the table to empty', async () => (await ctx.store.count()) === 0, 90_000, 100);
    expect(await survivor.stop('SIGTERM')).toEqual({ code: 0, signal: null });

    const counts = executionsById([victim, survivor]);
    const reruns = [...counts.values()].filter((n) => n > 1).length;
    report(`kill-mid-burn-down ${ctx.name}`, { jobs: JOBS, parallel: PARALLEL, victimStarted, reruns });
    expect(victimStarted).toBeLessThan(JOBS);
    expect(ids.filter((id) => !counts.has(id))).toEqual([]);
    expect([...counts.values()].filter((n) => n > 2)).toEqual([]);
    expect(reruns).toBeLessThanOrEqual(RERUN_BOUND);
    expect(await remainingRows(ctx.database)).toEqual([]);
  });
});

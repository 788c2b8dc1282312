import { isLeaseStamp } from '@app/background-jobs';
import { describeOnScaleBackends } from './support/describe-on-scale-backends';
import { executionsById } from './support/fixture-worker';
import { insertJobs, jobRow, remainingRows } from './support/scale-database';
import { waitFor } from '../support/wait-for';
import { report } from './support/report';

jest.setTimeout(120_000);

// Few enough that the survivors run dry before the lease ends: the recovery time then measures the lease, not the backlog
// (the rows of a dead claim have TryCount 1, so ABP's order runs them after every fresh row).
const JOBS = 200;
const LEASE_SECONDS = 2;
const POLL_MS = 200;

describeOnScaleBackends('a worker killed mid-run', (ctx) => {
  it('loses no job: the rows it held run elsewhere once their lease ends', async () => {
    const { store } = ctx;
    const ids = await insertJobs(
      store,
      Array.from({ length: JOBS }, (_, i) => jobRow('FixtureSleep', { ms: 50, n: i })),
    );
    const workers = await ctx.startWorkers(3, {
      MaxParallelJobExecutionCount: 4,
      JobLeaseDuration: LEASE_SECONDS,
      JobPollPeriod: POLL_MS,
    });
    const [victim, ...survivors] = workers;

    // Killed while it runs jobs (one has started and not finished), not in a gap between two claims.
    const count = (msg: string) => victim.linesMatching((l) => l.msg === msg).length;
    const busy = () => count('fixture-started') >= 20 && count('fixture-started') > count('fixture-finished');
    await waitFor('the victim to be busy', busy, 30_000, 5);
    victim.kill('SIGKILL');
    const killedAt = Date.now();
    await victim.closedWithin(10_000);

    // Jobs the victim started but never finished: their rows stay leased until the lease runs out.
    const finishedByVictim = new Set(victim.linesMatching((l) => l.msg === 'fixture-finished').map((l) => l.jobId));
    const cutShort = victim
      .linesMatching((l) => l.msg === 'fixture-started' && !finishedByVictim.has(l.jobId))
      .map((l) => l.jobId!);
    expect(cutShort.length).toBeGreaterThan(0);
    // While a row is leased its NextTryTime is the lease's end: when it may run again. Read at once (the victim
    // renewed its lease at most a third of a lease ago), while the rows still carry the victim's first claim.
    const held = await Promise.all(cutShort.map((id) => store.find(id)));
    expect(held.map((row) => row && isLeaseStamp(row.concurrencyStamp) && row.tryCount)).toEqual(cutShort.map(() => 1));
    const leaseEnds = new Map(held.map((row) => [row!.id, row!.nextTryTime.getTime()]));

    const rerunAt = (id: string) =>
      survivors.flatMap((w) => w.linesMatching((l) => l.msg === 'fixture-started' && l.jobId === id))[0]?.time;
    await waitFor(
      'the cut-short jobs to run again',
      () => cutShort.every((id) => rerunAt(id) !== undefined),
      30_000,
      20,
    );
    const recoveredMs = Date.now() - killedAt;
    // How long after its lease ended each cut-short job started again.
    const pickupsMs = cutShort.map((id) => rerunAt(id)! - leaseEnds.get(id)!);

    await waitFor('the table to empty', async () => (await store.count()) === 0, 60_000, 100);
    const emptiedMs = Date.now() - killedAt;
    const exits = await Promise.all(survivors.map((w) => w.stop('SIGTERM')));

    const counts = executionsById(workers);
    const duplicates = [...counts.entries()].filter(([, n]) => n > 1).map(([id]) => id);
    // A job the victim finished whose deletion it never wrote also runs twice; anything else would be a bug.
    const unexplained = duplicates.filter(
      (id) => !victim.hasLine((l) => l.msg === 'fixture-started' && l.jobId === id),
    );
    report(`worker-crash ${ctx.name}`, {
      jobs: JOBS,
      workers: 3,
      victimStarted: victim.linesMatching((l) => l.msg === 'fixture-started').length,
      cutShort: cutShort.length,
      duplicates: duplicates.length,
      recoveredMs,
      pickupsMs: [Math.min(...pickupsMs), Math.max(...pickupsMs)],
      emptiedMs,
    });

    expect(exits).toEqual(survivors.map(() => ({ code: 0, signal: null })));
    expect(ids.filter((id) => !counts.has(id))).toEqual([]);
    expect(unexplained).toEqual([]);
    // The lease, not a poll or a restart, bounds the recovery: no row runs again before its lease ends, and the idle
    // survivors take it up within a poll plus the slack a claim needs on two shared cores.
    expect(Math.min(...pickupsMs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...pickupsMs)).toBeLessThan(POLL_MS + 1300);
    expect(await remainingRows(ctx.database)).toEqual([]);
  });
});

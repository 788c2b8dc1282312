import { executionsById, killAll, startWorkers, WorkerProcess } from './support/worker-process';
import { insertJobs, jobRow, openScaleDatabase, remainingRows, ScaleDatabase, scaleBackends } from './support/scale-database';
import { waitFor } from './support/wait';
import { report } from './support/report';

jest.setTimeout(120_000);

// Few enough that the survivors run dry before the lease ends: the recovery time then measures the lease, not the backlog
// (the rows of a dead claim have TryCount 1, so ABP's order runs them after every fresh row).
const JOBS = 200;
const LEASE_SECONDS = 2;

describe.each(scaleBackends.map((b) => [b.name, b] as const))('%s: a worker killed mid-run', (name, backend) => {
  let database: ScaleDatabase;
  let workers: WorkerProcess[] = [];

  beforeEach(async () => {
    database = await openScaleDatabase(backend);
  });

  afterEach(async () => {
    await killAll(workers);
    await database.dispose();
  });

  it('loses no job: the rows it held run elsewhere once their lease ends', async () => {
    const ids = await insertJobs(database.store, Array.from({ length: JOBS }, (_, i) => jobRow('FixtureSleep', { ms: 50, n: i })));
    workers = await startWorkers(3, database.db.connectionString, {
      MaxParallelJobExecutionCount: 4,
      JobLeaseDuration: LEASE_SECONDS,
      JobPollPeriod: 200,
    });
    const [victim, ...survivors] = workers;

    await waitFor('the victim to be busy', () => victim.linesMatching((l) => l.msg === 'fixture-started').length >= 20, 30_000, 10);
    victim.kill('SIGKILL');
    const killedAt = Date.now();
    await victim.exited;

    // Jobs the victim started but never finished: their rows stay leased until the lease runs out.
    const finishedByVictim = new Set(victim.linesMatching((l) => l.msg === 'fixture-finished').map((l) => l.jobId));
    const cutShort = victim.linesMatching((l) => l.msg === 'fixture-started' && !finishedByVictim.has(l.jobId)).map((l) => l.jobId!);
    expect(cutShort.length).toBeGreaterThan(0);
    const rerun = (id: string) => survivors.some((w) => w.hasLine((l) => l.msg === 'fixture-started' && l.jobId === id));
    await waitFor('the cut-short jobs to run again', () => cutShort.every(rerun), 30_000, 20);
    const recoveredMs = Date.now() - killedAt;

    await waitFor('the table to empty', async () => (await database.store.count()) === 0, 60_000, 100);
    const emptiedMs = Date.now() - killedAt;
    const exits = await Promise.all(survivors.map((w) => w.stop('SIGTERM')));

    const counts = executionsById(workers);
    const duplicates = [...counts.entries()].filter(([, n]) => n > 1).map(([id]) => id);
    // A job the victim finished whose deletion it never wrote also runs twice; anything else would be a bug.
    const unexplained = duplicates.filter((id) => !victim.hasLine((l) => l.msg === 'fixture-started' && l.jobId === id));
    report(`worker-crash ${name}`, {
      jobs: JOBS,
      workers: 3,
      victimStarted: victim.linesMatching((l) => l.msg === 'fixture-started').length,
      cutShort: cutShort.length,
      duplicates: duplicates.length,
      recoveredMs,
      emptiedMs,
    });

    expect(exits).toEqual(survivors.map(() => ({ code: 0, signal: null })));
    expect(ids.filter((id) => !counts.has(id))).toEqual([]);
    expect(unexplained).toEqual([]);
    // The lease, not a poll or a restart, bounds the recovery.
    expect(recoveredMs).toBeGreaterThanOrEqual(LEASE_SECONDS * 1000 - 1000);
    expect(recoveredMs).toBeLessThan(LEASE_SECONDS * 1000 + 1500);
    expect(await remainingRows(database)).toEqual([]);
  });
});

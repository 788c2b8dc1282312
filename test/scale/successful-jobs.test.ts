import { describeOnScaleBackends } from './support/describe-on-scale-backends';
import { insertJobs, jobRow } from './support/scale-database';
import { executionsById } from './support/fixture-worker';
import { waitFor } from '../support/wait-for';
import { report } from './support/report';

jest.setTimeout(90_000);

const RETENTION_SECONDS = 6;

/** How many kept rows a worker's cleanup said it deleted, in all. */
const deletedBy = (lines: Array<{ msg: string }>) =>
  lines
    .map((l) => /^Deleted (\d+) kept successful job\(s\)/.exec(l.msg))
    .reduce((sum, m) => sum + (m ? Number(m[1]) : 0), 0);

describeOnScaleBackends('StoreSuccessfulJobs: two workers keep succeeded rows, and the cleanup deletes them', (ctx) => {
  it('keeps each succeeded row once, completed and with its result, never runs it again, and cleans it after its retention', async () => {
    const { store } = ctx;
    const settings = {
      StoreSuccessfulJobs: 'true',
      SuccessfulJobRetentionTime: `00:00:${String(RETENTION_SECONDS).padStart(2, '0')}`,
      CleanSuccessfulJobsPeriod: 500,
      MaxJobFetchCount: 7, // the cleanup's batches too
      MaxParallelJobExecutionCount: 4,
      JobPollPeriod: 100,
      // A process beside a dedicated one: these rows are not its to run.
      ExcludeJobNames: 'FixtureOther',
    };
    // Rows kept an hour ago: past the retention the moment the workers start.
    const old = Array.from({ length: 30 }, (_, i) =>
      jobRow('FixtureResult', { i }, { tryCount: 1, completionTime: new Date(Date.now() - 3_600_000) }),
    );
    await insertJobs(store, old);
    const workers = await ctx.startWorkers(2, settings);
    expect(workers[0].hasLine((l) => l.msg.includes('storeSuccessfulJobs=true retention=6s'))).toBe(true);

    const jobs = Array.from({ length: 60 }, (_, i) => jobRow('FixtureResult', { result: { n: i } }));
    const excluded = jobRow('FixtureOther', {});
    const started = Date.now();
    await insertJobs(store, [...jobs, excluded]);

    const kept = await waitFor(
      'every job to be kept, completed',
      async () => {
        const rows = await Promise.all(jobs.map((j) => store.find(j.id)));
        return rows.every((r) => r?.completionTime) ? rows.map((r) => r!) : undefined;
      },
      20_000,
      50,
    );
    const keptAfterMs = Date.now() - started;
    for (const [i, row] of kept.entries()) {
      expect(row).toMatchObject({ tryCount: 1, isAbandoned: false });
      expect(JSON.parse(row.extraProperties)).toEqual({ Result: { n: i } });
      expect(row.concurrencyStamp).not.toMatch(/^lease:/);
    }
    // Old kept rows went in the first rounds; the new ones stay until their retention passes.
    await waitFor('the old kept rows to be deleted', async () => (await store.count()) === jobs.length + 1, 10_000, 50);

    await waitFor(
      'the kept rows to pass their retention and be deleted',
      async () => (await store.count()) === 1,
      30_000,
      100,
    );
    const keptForMs = Date.now() - started;
    expect(keptForMs).toBeGreaterThanOrEqual(RETENTION_SECONDS * 1000);

    const runs = executionsById(workers);
    expect(jobs.map((j) => runs.get(j.id))).toEqual(jobs.map(() => 1));
    expect(await store.find(excluded.id)).toMatchObject({ tryCount: 0, lastTryTime: null });
    // Every row deleted once, in batches of MaxJobFetchCount, by whichever worker held the lock.
    // A round logs its total after its last batch commits, so the line can reach us just after the
    // table shows the rows gone: wait for the lines, then check the sum is exact.
    const expectedDeleted = old.length + jobs.length;
    await waitFor(
      'the cleanup lines to account for every deleted row',
      async () => workers.reduce((sum, w) => sum + deletedBy(w.lines), 0) >= expectedDeleted || undefined,
      5_000,
      50,
    );
    const deleted = workers.map((w) => deletedBy(w.lines));
    expect(deleted[0] + deleted[1]).toBe(expectedDeleted);
    const exits = await Promise.all(workers.map((w) => w.stop('SIGTERM')));
    expect(exits).toEqual(workers.map(() => ({ code: 0, signal: null })));
    report(`successful-jobs ${ctx.name}`, { keptAfterMs, keptForMs, deletedByWorker: deleted });
  });
});

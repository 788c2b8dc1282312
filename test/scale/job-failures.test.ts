import { killAll, WorkerProcess } from './support/worker-process';
import { insertJobs, jobRow, openScaleDatabase, ScaleDatabase, scaleBackends } from './support/scale-database';
import { waitFor } from './support/wait';
import { report } from './support/report';

jest.setTimeout(90_000);

const lastError = (extraProperties: string) => String((JSON.parse(extraProperties) as { LastError?: unknown }).LastError ?? '');

describe.each(scaleBackends.map((b) => [b.name, b] as const))('%s: jobs that fail, time out, cannot be read or crash their worker', (name, backend) => {
  let database: ScaleDatabase;
  let workers: WorkerProcess[] = [];

  beforeEach(async () => {
    database = await openScaleDatabase(backend);
  });

  afterEach(async () => {
    await killAll(workers);
    await database.dispose();
  });

  function worker(settings: Record<string, string | number>): Promise<WorkerProcess> {
    const w = new WorkerProcess(database.db.connectionString, { JobLeaseDuration: 2, JobPollPeriod: 100, MaxParallelJobExecutionCount: 4, ...settings });
    workers.push(w);
    return w.ready();
  }

  it('a job past its timeout is aborted and retried by ABP backoff; unreadable args are abandoned at once', async () => {
    const { store } = database;
    const slow = jobRow('FixtureTimeout', { ms: 5000 });
    const overDefault = jobRow('FixtureSleep', { ms: 5000 });
    const failing = jobRow('FixtureFail', { reason: 'first try' });
    const unreadable = jobRow('FixtureSleep', {}, { jobArgs: 'this is {not json' });
    await insertJobs(store, [slow, overDefault, failing, unreadable]);
    const w = await worker({ DefaultFirstWaitDuration: 60, JobExecutionTimeout: 1 });

    // Tried (LastTryTime set) and no longer held: the worker may not have claimed it yet.
    const settled = async (id: string) => {
      const row = await store.find(id);
      return row && row.lastTryTime !== null && !row.concurrencyStamp.startsWith('lease:') ? row : undefined;
    };
    const timedOut = await waitFor('the timed-out try to be written', () => settled(slow.id), 10_000);
    expect(timedOut.tryCount).toBe(1);
    expect(timedOut.isAbandoned).toBe(false);
    expect(timedOut.nextTryTime.getTime() - timedOut.lastTryTime!.getTime()).toBe(60_000);
    expect(lastError(timedOut.extraProperties)).toMatch(/timeout of 300 ms/);
    expect(w.hasLine((l) => l.msg === 'fixture-started' && l.jobId === slow.id)).toBe(true);
    expect(w.hasLine((l) => l.msg === 'fixture-finished' && l.jobId === slow.id)).toBe(false);

    // A job without its own timeout gets the worker's JobExecutionTimeout.
    const overran = await waitFor('the over-long try to be written', () => settled(overDefault.id), 10_000);
    expect(overran.tryCount).toBe(1);
    expect(overran.isAbandoned).toBe(false);
    expect(lastError(overran.extraProperties)).toMatch(/timeout of 1000 ms/);

    const failed = await waitFor('the failed try to be written', () => settled(failing.id), 10_000);
    expect(failed.tryCount).toBe(1);
    expect(failed.isAbandoned).toBe(false);
    expect(failed.nextTryTime.getTime() - failed.lastTryTime!.getTime()).toBe(60_000);
    expect(lastError(failed.extraProperties)).toMatch(/FixtureFail failed on purpose: first try/);

    const abandoned = await waitFor('the unreadable row to be abandoned', () => settled(unreadable.id), 10_000);
    expect(abandoned.isAbandoned).toBe(true);
    expect(abandoned.tryCount).toBe(1);
    expect(lastError(abandoned.extraProperties)).toMatch(/JSON/);
    expect(w.hasLine((l) => l.msg === 'fixture-started' && l.jobId === unreadable.id)).toBe(false);
    expect(w.hasLine((l) => /^Abandoned job/.test(l.msg) && l.msg.includes(unreadable.id))).toBe(true);
    expect(await w.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('a throwing job is retried with ABP waits (first wait, then times the factor) until DefaultTimeout abandons it', async () => {
    const { store } = database;
    const w = await worker({ DefaultFirstWaitDuration: 0.3, DefaultWaitFactor: 2, DefaultTimeout: 3 });
    // Enqueued once the worker runs, so DefaultTimeout counts from a creation time its start-up does not eat into.
    const failing = jobRow('FixtureFail', { reason: 'always' });
    await insertJobs(store, [failing]);

    const row = await waitFor('the job to be abandoned', async () => ((await store.find(failing.id))?.isAbandoned ? store.find(failing.id) : undefined), 20_000, 50);
    const tries = w.linesMatching((l) => l.msg === 'fixture-started' && l.jobId === failing.id);
    const gaps = tries.slice(1).map((t, i) => t.time! - tries[i].time!);
    report(`retry-backoff ${name}`, { tries: tries.length, gapsMs: gaps });
    // Tries at about 0, 0.3, 0.9, 2.1 s after creation; the next (4.5 s) would pass DefaultTimeout 3 s.
    expect(tries.map((t) => t.tryCount)).toEqual([1, 2, 3, 4]);
    expect(row!.tryCount).toBe(4);
    [300, 600, 1200].forEach((wait, i) => {
      expect(gaps[i]).toBeGreaterThanOrEqual(wait - 50);
      expect(gaps[i]).toBeLessThan(wait + 400);
    });
    expect(lastError(row!.extraProperties)).toMatch(/failed on purpose/);
    expect(await w.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('a job that kills its worker every time is abandoned by the timeout rule, not run forever', async () => {
    const { store } = database;
    const crash = jobRow('FixtureCrash', {});
    // A lost try counts like a failed one. Claim 2 (when the next worker is up, 1-3 s in) sees a wait of 2 s, within
    // DefaultTimeout 5 s: it runs and crashes again. Claim 3 (a lease later, 2 s in at least) sees 4 s: past it, abandoned.
    const settings = { DefaultFirstWaitDuration: 2, DefaultWaitFactor: 2, DefaultTimeout: 5, JobLeaseDuration: 1 };
    let crashes = 0;
    const started = Date.now();
    for (;;) {
      const w = await worker(settings);
      if (crashes === 0) await insertJobs(store, [crash]);
      const outcome = await Promise.race([
        w.exited.then(() => 'crashed' as const),
        waitFor('the crash loop to end', async () => (await store.find(crash.id))?.isAbandoned, 15_000, 50).then(() => 'abandoned' as const),
      ]);
      if (outcome === 'abandoned') {
        expect(await w.stop('SIGTERM')).toEqual({ code: 0, signal: null });
        break;
      }
      expect((await w.exited).signal).toBe('SIGKILL');
      crashes++;
      expect(crashes).toBeLessThan(6);
    }
    const row = (await store.find(crash.id))!;
    report(`crash-loop ${name}`, { crashes, tryCount: row.tryCount, seconds: ((Date.now() - started) / 1000).toFixed(1) });
    expect(crashes).toBeGreaterThanOrEqual(1);
    expect(row.isAbandoned).toBe(true);
    expect(lastError(row.extraProperties)).toMatch(/was lost: its worker stopped/);
  });
});

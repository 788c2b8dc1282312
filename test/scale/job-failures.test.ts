import { describeOnScaleBackends } from './support/describe-on-scale-backends';
import { WorkerSettings } from './support/fixture-worker';
import { insertJobs, jobRow } from './support/scale-database';
import { waitFor } from '../support/wait-for';
import { report } from './support/report';

jest.setTimeout(90_000);

const lastError = (extraProperties: string) => (JSON.parse(extraProperties) as { LastError?: string }).LastError ?? '';

/** The ISO time in a "failed on try N; next try at <time>" line. */
const nextTryAt = (msg: string) => Date.parse(/next try at (\S+Z)/.exec(msg)![1]);

describeOnScaleBackends('jobs that fail, time out, cannot be read or crash their worker', (ctx) => {
  const worker = (settings: WorkerSettings) =>
    ctx.startWorker({ JobLeaseDuration: 2, JobPollPeriod: 100, MaxParallelJobExecutionCount: 4, ...settings });

  it('a job past its timeout is aborted and retried by ABP backoff; unreadable args are abandoned at once', async () => {
    const { store } = ctx;
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
    const { store } = ctx;
    const w = await worker({ DefaultFirstWaitDuration: 0.3, DefaultWaitFactor: 2, DefaultTimeout: 3 });
    // Enqueued once the worker runs, so DefaultTimeout counts from a creation time its start-up does not eat into.
    const failing = jobRow('FixtureFail', { reason: 'always' });
    await insertJobs(store, [failing]);

    const row = await waitFor(
      'the job to be abandoned',
      async () => ((await store.find(failing.id))?.isAbandoned ? store.find(failing.id) : undefined),
      20_000,
      50,
    );
    const tries = w.linesMatching((l) => l.msg === 'fixture-started' && l.jobId === failing.id);
    const gaps = tries.slice(1).map((t, i) => t.time! - tries[i].time!);
    // The time each failed try set for the next one, as the worker logged it.
    const nextTries = w
      .linesMatching((l) => l.msg.startsWith(`Job ${failing.id} `) && l.msg.includes('; next try at '))
      .map((l) => nextTryAt(l.msg));
    const pickupsMs = tries.slice(1).map((t, i) => t.time! - nextTries[i]);
    report(`retry-backoff ${ctx.name}`, { tries: tries.length, gapsMs: gaps, pickupsMs });
    // Tries at about 0, 0.3, 0.9, 2.1 s after creation; the next (4.5 s) would pass DefaultTimeout 3 s.
    expect(tries.map((t) => t.tryCount)).toEqual([1, 2, 3, 4]);
    expect(row.tryCount).toBe(4);
    expect(nextTries).toHaveLength(3);
    [300, 600, 1200].forEach((wait, i) => {
      // The wait counts from the claim (LastTryTime), which comes before the try starts: by a few ms, by up to about
      // 100 ms on two busy shared cores. A wrong first wait or factor would be off by 150 ms or more.
      expect(nextTries[i] - tries[i].time!).toBeLessThanOrEqual(wait);
      expect(nextTries[i] - tries[i].time!).toBeGreaterThan(wait - 150);
      // Never before its time; then within a poll (100 ms), a claim and the slack two shared cores need.
      expect(pickupsMs[i]).toBeGreaterThanOrEqual(0);
      expect(pickupsMs[i]).toBeLessThan(1000);
    });
    expect(lastError(row.extraProperties)).toMatch(/failed on purpose/);
    expect(await w.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('a job that kills its worker every time is abandoned by the timeout rule, not run forever', async () => {
    const { store } = ctx;
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
        w.closed.then(() => 'crashed' as const),
        waitFor('the crash loop to end', async () => (await store.find(crash.id))?.isAbandoned, 15_000, 50).then(
          () => 'abandoned' as const,
        ),
      ]);
      if (outcome === 'abandoned') {
        expect(await w.stop('SIGTERM')).toEqual({ code: 0, signal: null });
        break;
      }
      expect((await w.closed).signal).toBe('SIGKILL');
      crashes++;
      expect(crashes).toBeLessThan(6);
    }
    const row = (await store.find(crash.id))!;
    report(`crash-loop ${ctx.name}`, {
      crashes,
      tryCount: row.tryCount,
      seconds: ((Date.now() - started) / 1000).toFixed(1),
    });
    expect(crashes).toBeGreaterThanOrEqual(1);
    expect(row.isAbandoned).toBe(true);
    expect(lastError(row.extraProperties)).toMatch(/was lost: its worker stopped/);
  });
});

import { randomUUID } from 'node:crypto';
import { BackgroundJobStore, ClaimedJob } from '@app/background-jobs';
import { describeOnScaleBackends } from './support/describe-on-scale-backends';
import { insertJobs, jobRow } from './support/scale-database';
import { waitFor } from '../support/wait-for';
import { report } from './support/report';

jest.setTimeout(60_000);

const token = () => `lease:${randomUUID().replace(/-/g, '')}`;

/** Claims the row with `leaseToken` as soon as it is due again (its previous lease ran out). */
function claimWhenDue(
  store: BackgroundJobStore,
  jobName: string,
  leaseToken: string,
  leaseMs: number,
): Promise<ClaimedJob> {
  return waitFor(
    `a ${jobName} row to become claimable`,
    async () => {
      const now = new Date();
      const [job] = await store.claim({
        applicationName: null,
        jobNames: [jobName],
        limit: 1,
        now,
        leaseUntil: new Date(now.getTime() + leaseMs),
        leaseToken,
      });
      return job;
    },
    15_000,
    25,
  );
}

describeOnScaleBackends('a lease that ran out', (ctx) => {
  it('refuses every write of the stale holder once another claim took the row', async () => {
    const { store } = ctx;
    const row = jobRow('FixtureSleep', { ms: 0 });
    await insertJobs(store, [row]);
    const stale = token();
    const current = token();
    const [first] = await store.claim({
      applicationName: null,
      jobNames: ['FixtureSleep'],
      limit: 1,
      now: new Date(),
      leaseUntil: new Date(Date.now() + 300),
      leaseToken: stale,
    });
    expect(first.previousLeaseExpired).toBe(false);
    const second = await claimWhenDue(store, 'FixtureSleep', current, 60_000);
    expect(second.previousLeaseExpired).toBe(true);
    expect(second.tryCount).toBe(2);

    expect(await store.complete(stale, [row.id])).toBe(0);
    expect(
      await store.fail([
        { id: row.id, leaseToken: stale, nextTryTime: new Date(), extraProperties: '{}', newStamp: randomUUID() },
      ]),
    ).toBe(0);
    expect(await store.extendLeases(stale, [row.id], new Date(Date.now() + 60_000))).toBe(0);
    expect(
      await store.release({ leaseToken: stale, ids: [row.id], now: new Date(), newStamp: randomUUID(), undoTry: true }),
    ).toBe(0);
    const held = (await store.find(row.id))!;
    expect(held.concurrencyStamp).toBe(current);
    expect(held.tryCount).toBe(2);
    expect(held.nextTryTime.getTime()).toBe(second.nextTryTime.getTime());

    expect(await store.complete(current, [row.id])).toBe(1);
    expect(await store.count()).toBe(0);
  });

  it('a worker frozen past its lease cannot complete the job another claim took over, and says so', async () => {
    const { store } = ctx;
    const row = jobRow('FixtureSleep', { ms: 1000 });
    await insertJobs(store, [row]);
    const worker = await ctx.startWorker({ JobLeaseDuration: 1, JobPollPeriod: 200 });
    await waitFor('the job to start', () => worker.hasLine((l) => l.msg === 'fixture-started'), 10_000, 5);

    // Frozen, the worker can neither renew its lease nor finish: like a long GC pause or a VM stall.
    worker.kill('SIGSTOP');
    const takeover = token();
    const stolenAt = Date.now();
    await claimWhenDue(store, 'FixtureSleep', takeover, 60_000);
    const waitedMs = Date.now() - stolenAt;
    worker.kill('SIGCONT');

    await waitFor(
      'the refusal to be logged',
      () => worker.hasLine((l) => /not written: their lease had passed to another worker/.test(l.msg)),
      10_000,
    );
    expect(await worker.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(worker.hasLine((l) => l.msg === 'fixture-finished')).toBe(true);
    const stopped = worker.linesMatching((l) => l.msg.startsWith('Worker stopped'))[0]?.msg;
    expect(stopped).toMatch(/refused=1/);
    const held = (await store.find(row.id))!;
    expect(held.concurrencyStamp).toBe(takeover);
    report(`lease-fencing ${ctx.name}`, { takeoverAfterMs: waitedMs, stopped });
  });
});

import { randomBytes, randomUUID } from 'node:crypto';
import { BackgroundJobRecord } from '@app/background-jobs';
import { uniqueJobId } from '@app/background-jobs/store/derived-ids';
import { enqueueUnique } from '@app/background-jobs/store/unique-enqueue';
import { storeBackends } from '../support/backends';
import { jobRecord } from '../support/job-records';
import { describeOnStoreBackends } from '../support/store-suite';

/**
 * Unique jobs (store.uniqueJobs and enqueueUnique over it): the id derived from the job name and
 * key lets the primary key keep one unfinished job per key, on every database, without a lock.
 */
jest.setTimeout(30_000);

const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;
const hex32 = () => randomBytes(16).toString('hex');
const later = (ms: number) => new Date(Date.now() + ms);

/** A unique job's row as the manager builds it: due now, its key in ExtraProperties. */
function uniqueRow(key: string, overrides: Partial<BackgroundJobRecord> = {}): BackgroundJobRecord {
  const jobName = overrides.jobName ?? 'UniqueJobArgs';
  return jobRecord({
    id: uniqueJobId(null, jobName, key),
    jobName,
    jobArgs: '{"n":1}',
    extraProperties: JSON.stringify({ UniqueKey: key }),
    ...overrides,
  });
}

describeOnStoreBackends('Unique jobs: %s', storeBackends, (suite) => {
  const newId = () => randomUUID();

  describe('store.uniqueJobs', () => {
    it('insertIfAbsent writes a row once and passes over a taken id without changing it', async () => {
      const first = uniqueRow(unique('k'));
      expect(await suite.store.uniqueJobs.insertIfAbsent(first)).toBe(true);
      expect(await suite.store.uniqueJobs.insertIfAbsent({ ...first, jobArgs: '{"n":2}' })).toBe(false);
      expect(await suite.store.find(first.id)).toEqual(first);
      expect(await suite.store.uniqueJobs.current(first.id.toUpperCase())).toEqual(first);
    });

    it('moveFinished moves abandoned and completed rows to a new id, keeping them, and leaves live rows', async () => {
      const abandoned = uniqueRow(unique('a'), { isAbandoned: true, extraProperties: '{"LastError":"x"}' });
      const completed = uniqueRow(unique('c'), { completionTime: new Date() });
      const live = uniqueRow(unique('l'));
      for (const r of [abandoned, completed, live]) await suite.store.uniqueJobs.insertIfAbsent(r);
      const [a, c, l] = [newId(), newId(), newId()];
      expect(await suite.store.uniqueJobs.moveFinished(abandoned.id, a)).toBe(true);
      expect(await suite.store.uniqueJobs.moveFinished(completed.id, c)).toBe(true);
      expect(await suite.store.uniqueJobs.moveFinished(live.id, l)).toBe(false);
      expect(await suite.store.find(abandoned.id)).toBeUndefined();
      expect(await suite.store.find(a)).toEqual({ ...abandoned, id: a });
      expect(await suite.store.find(c)).toEqual({ ...completed, id: c });
      expect(await suite.store.find(live.id)).toEqual(live);
      expect(await suite.store.find(l)).toBeUndefined();
    });

    it('replaceWaiting rewrites a waiting row (or one whose lease ran out), never a held or finished one', async () => {
      const now = new Date();
      const waiting = uniqueRow(unique('w'), { tryCount: 2, extraProperties: '{"LastError":"boom"}' });
      const held = uniqueRow(unique('h'), { concurrencyStamp: `lease:${hex32()}`, nextTryTime: later(60_000) });
      const expired = uniqueRow(unique('e'), { concurrencyStamp: `lease:${hex32()}`, nextTryTime: later(-1000) });
      const abandoned = uniqueRow(unique('x'), { isAbandoned: true });
      for (const r of [waiting, held, expired, abandoned]) await suite.store.uniqueJobs.insertIfAbsent(r);
      const replace = (r: BackgroundJobRecord) =>
        suite.store.uniqueJobs.replaceWaiting(
          { id: r.id, jobArgs: '{"n":9}', priority: 25, nextTryTime: later(5000), newStamp: hex32() },
          now,
        );
      expect(await replace(waiting)).toBe(true);
      expect(await replace(held)).toBe(false);
      expect(await replace(expired)).toBe(true);
      expect(await replace(abandoned)).toBe(false);
      const replaced = (await suite.store.find(waiting.id))!;
      expect(replaced).toMatchObject({
        jobArgs: '{"n":9}',
        priority: 25,
        tryCount: 2,
        extraProperties: waiting.extraProperties,
      });
      expect(replaced.nextTryTime.getTime()).toBeGreaterThan(now.getTime() + 4000);
      expect(await suite.store.find(held.id)).toEqual(held);
      expect(await suite.store.find(abandoned.id)).toEqual(abandoned);
    });
  });

  describe('enqueueUnique', () => {
    it('enqueues once per key, and keeps the waiting job under onConflict keep', async () => {
      const key = unique('keep');
      expect(await enqueueUnique(suite.store, uniqueRow(key), 'keep', newId)).toBe('enqueued');
      expect(await enqueueUnique(suite.store, uniqueRow(key, { jobArgs: '{"n":2}' }), 'keep', newId)).toBe('kept');
      expect((await suite.store.find(uniqueJobId(null, 'UniqueJobArgs', key)))?.jobArgs).toBe('{"n":1}');
    });

    it('puts the new args, priority and due time onto the waiting job under onConflict replace', async () => {
      const key = unique('replace');
      await enqueueUnique(suite.store, uniqueRow(key), 'replace', newId);
      const due = later(30_000);
      const outcome = await enqueueUnique(
        suite.store,
        uniqueRow(key, { jobArgs: '{"n":2}', priority: 5, nextTryTime: due }),
        'replace',
        newId,
      );
      expect(outcome).toBe('replaced');
      expect(await suite.store.find(uniqueJobId(null, 'UniqueJobArgs', key))).toMatchObject({
        jobArgs: '{"n":2}',
        priority: 5,
        nextTryTime: due,
      });
    });

    it('leaves a running job alone under replace, and says so', async () => {
      const key = unique('running');
      const running = uniqueRow(key, { concurrencyStamp: `lease:${hex32()}`, nextTryTime: later(60_000), tryCount: 1 });
      await suite.store.insert([running]);
      expect(await enqueueUnique(suite.store, uniqueRow(key, { jobArgs: '{"n":2}' }), 'replace', newId)).toBe(
        'running',
      );
      expect(await enqueueUnique(suite.store, uniqueRow(key, { jobArgs: '{"n":2}' }), 'keep', newId)).toBe('kept');
      expect(await suite.store.find(running.id)).toEqual(running);
    });

    it('frees the key once the job is finished: abandoned (kept under a new id) or succeeded (deleted)', async () => {
      const key = unique('free');
      const jobName = unique('UniqueFree');
      const id = uniqueJobId(null, jobName, key);
      const claimIt = async () => {
        const leaseToken = `lease:${hex32()}`;
        const now = new Date();
        const claimed = await suite.store.claim({
          applicationName: null,
          jobNames: [jobName],
          limit: 10,
          now,
          leaseUntil: later(60_000),
          leaseToken,
        });
        expect(claimed.map((c) => c.id)).toEqual([id]);
        return leaseToken;
      };
      await enqueueUnique(suite.store, uniqueRow(key, { jobName }), 'keep', newId);

      // Its last try fails: a worker abandons it.
      const lease = await claimIt();
      await suite.store.fail([
        { id, leaseToken: lease, nextTryTime: null, extraProperties: '{"LastError":"x"}', newStamp: hex32() },
      ]);
      const movedTo: string[] = [];
      const outcome = await enqueueUnique(suite.store, uniqueRow(key, { jobName, jobArgs: '{"n":3}' }), 'keep', () => {
        movedTo.push(newId());
        return movedTo[0];
      });
      expect(outcome).toBe('enqueued');
      expect(await suite.store.find(id)).toMatchObject({ jobArgs: '{"n":3}', isAbandoned: false, tryCount: 0 });
      expect(movedTo).toHaveLength(1);
      expect(await suite.store.find(movedTo[0])).toMatchObject({ isAbandoned: true, jobArgs: '{"n":1}' });

      // It succeeds: its row is deleted, and the key is free at once.
      expect(await suite.store.complete(await claimIt(), [id])).toBe(1);
      expect(await enqueueUnique(suite.store, uniqueRow(key, { jobName, jobArgs: '{"n":4}' }), 'keep', newId)).toBe(
        'enqueued',
      );
    });

    it('keeps one row when eight stores enqueue one key at once', async () => {
      const key = unique('race');
      const stores = [
        suite.store,
        ...(await Promise.all(Array.from({ length: 7 }, () => suite.open()))).map((o) => o.store),
      ];
      const outcomes = await Promise.all(
        stores.map((store, i) => enqueueUnique(store, uniqueRow(key, { jobArgs: `{"n":${i}}` }), 'keep', newId)),
      );
      expect(outcomes.filter((o) => o === 'enqueued')).toHaveLength(1);
      expect(outcomes.filter((o) => o === 'kept')).toHaveLength(7);
      const replaced = await Promise.all(
        stores.map((store, i) => enqueueUnique(store, uniqueRow(key, { jobArgs: `{"r":${i}}` }), 'replace', newId)),
      );
      expect(replaced.every((o) => o === 'replaced')).toBe(true);
      expect((await suite.store.find(uniqueJobId(null, 'UniqueJobArgs', key)))?.jobArgs).toMatch(/^\{"r":\d\}$/);
    });

    it('keeps keys of different job names and applications apart', async () => {
      const key = unique('apart');
      expect(uniqueJobId(null, 'A', key)).not.toBe(uniqueJobId(null, 'B', key));
      expect(uniqueJobId('app1', 'A', key)).not.toBe(uniqueJobId('app2', 'A', key));
      expect(uniqueJobId(null, 'A', key)).not.toBe(uniqueJobId('', 'A', key));
      expect(await enqueueUnique(suite.store, uniqueRow(key, { jobName: 'UniqueA' }), 'keep', newId)).toBe('enqueued');
      expect(await enqueueUnique(suite.store, uniqueRow(key, { jobName: 'UniqueB' }), 'keep', newId)).toBe('enqueued');
    });
  });
});

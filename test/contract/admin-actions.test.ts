import { randomBytes, randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import {
  AdminInputError,
  BackgroundJobRecord,
  JobState,
  resolveOptions,
  StoreBackgroundJobsAdmin,
} from '@app/background-jobs';
import { newConcurrencyStamp } from '@app/background-jobs/store/stamps';
import { leaseStamp, rowIn } from '../support/admin-rows';
import { storeBackends } from '../support/backends';
import { describeOnStoreBackends } from '../support/store-suite';

/**
 * The management service's actions, on every backend: requeue, run now and delete, for ids and
 * for a selection; each refuses a row a worker holds, changes only rows in the states it applies
 * to, and writes one log line saying who did what to which ids.
 */
jest.setTimeout(60_000);

const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;
const actor = { name: 'alice@127.0.0.1' };
const sorted = (ids: string[]) => [...ids].sort();

describeOnStoreBackends('BackgroundJobsAdmin actions: %s', storeBackends, (suite) => {
  const admin = () => new StoreBackgroundJobsAdmin(suite.store, resolveOptions({}));
  let logged: string[];
  beforeEach(() => {
    logged = [];
    jest.spyOn(Logger.prototype, 'log').mockImplementation((message: unknown) => void logged.push(String(message)));
  });
  afterEach(() => jest.restoreAllMocks());

  /** One row in each state, of one job name of the test's own. */
  async function oneOfEach(prefix: string): Promise<Record<JobState, BackgroundJobRecord>> {
    const jobName = unique(prefix);
    const rows = {
      waiting: rowIn('waiting', { jobName }),
      scheduled: rowIn('scheduled', { jobName }),
      retrying: rowIn('retrying', { jobName }),
      processing: rowIn('processing', { jobName }),
      abandoned: rowIn('abandoned', { jobName }),
      succeeded: rowIn('succeeded', { jobName }),
    };
    await suite.store.insert(Object.values(rows));
    return rows;
  }

  describe('requeue', () => {
    it('makes abandoned and retrying rows new and due, keeps their last error in ErrorHistory, refuses held rows', async () => {
      const rows = await oneOfEach('Requeue');
      const unknown = randomUUID();
      const before = Date.now();
      const result = await admin().requeue(
        [
          rows.abandoned.id.toUpperCase(),
          rows.retrying.id,
          rows.processing.id,
          rows.waiting.id,
          rows.scheduled.id,
          unknown,
          'nope',
        ],
        actor,
      );
      expect({ ...result, done: sorted(result.done), missing: sorted(result.missing) }).toEqual({
        done: sorted([rows.abandoned.id, rows.retrying.id]),
        held: [rows.processing.id],
        missing: sorted([rows.waiting.id, rows.scheduled.id, unknown, 'nope']),
      });
      for (const row of [rows.abandoned, rows.retrying]) {
        const after = (await suite.store.find(row.id))!;
        expect(after).toMatchObject({ tryCount: 0, isAbandoned: false, jobArgs: row.jobArgs, jobName: row.jobName });
        expect(after.nextTryTime.getTime()).toBeGreaterThanOrEqual(before - 1000);
        expect(after.nextTryTime.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
        expect(after.concurrencyStamp).not.toBe(row.concurrencyStamp);
        expect(after.concurrencyStamp).toMatch(/^[0-9a-f]{32}$/);
        const bag = JSON.parse(after.extraProperties) as Record<string, unknown>;
        const old = JSON.parse(row.extraProperties) as Record<string, unknown>;
        expect(bag.LastError).toBeUndefined();
        expect(bag.ErrorHistory).toEqual([
          { ...old, RequeuedAt: expect.any(String) as unknown, RequeuedBy: actor.name },
        ]);
        expect((await admin().get(row.id))!.state).toBe('waiting');
      }
      for (const row of [rows.processing, rows.waiting, rows.scheduled, rows.succeeded])
        expect(await suite.store.find(row.id)).toEqual(row);
      expect(logged).toEqual([
        expect.stringMatching(
          new RegExp(
            `^alice@127\\.0\\.0\\.1 requeued 2 job\\(s\\): .*${rows.retrying.id}.*; refused 1 held by a worker: ${rows.processing.id}; 4 not found or not abandoned or retrying: `,
          ),
        ),
      ]);
    });

    it('writes nothing when the row changed after it was read: the stamp it read must still be there', async () => {
      const row = rowIn('abandoned', { jobName: unique('Stale') });
      await suite.store.insert([row]);
      const update = {
        id: row.id,
        expectedStamp: 'not-the-stamp',
        extraProperties: '{}',
        newStamp: newConcurrencyStamp(),
      };
      expect(await suite.store.admin.requeue([update], new Date())).toEqual([]);
      expect(await suite.store.find(row.id)).toEqual(row);
      expect(await suite.store.admin.requeue([{ ...update, expectedStamp: row.concurrencyStamp }], new Date())).toEqual(
        [row.id],
      );
    });

    it('never touches a row a lease holds, whatever its stamp says of its state', async () => {
      // Abandoned by its columns but held: a worker's lease is on it. The store refuses it too.
      const stamp = leaseStamp();
      const row = rowIn('abandoned', {
        jobName: unique('HeldAbandoned'),
        concurrencyStamp: stamp,
        nextTryTime: new Date(Date.now() + 60_000),
      });
      await suite.store.insert([row]);
      const now = new Date();
      expect(
        await suite.store.admin.requeue(
          [{ id: row.id, expectedStamp: stamp, extraProperties: '{}', newStamp: newConcurrencyStamp() }],
          now,
        ),
      ).toEqual([]);
      expect(await suite.store.admin.delete([row.id], now)).toEqual([]);
      expect(await admin().requeue([row.id], actor)).toEqual({ done: [], held: [row.id], missing: [] });
      expect(await suite.store.find(row.id)).toEqual(row);
    });

    it('racing a claim, never overwrites a row the claim took: every claimed row keeps its lease', async () => {
      const jobName = unique('Race');
      // Retrying rows due now: a claim takes them and a requeue applies to them.
      const rows = Array.from({ length: 200 }, () =>
        rowIn('retrying', { jobName, tryCount: 1, nextTryTime: new Date(Date.now() - 60_000) }),
      );
      await suite.store.insert(rows);
      const token = leaseStamp();
      const [claimed, requeued] = await Promise.all([
        suite.store.claim({
          applicationName: null,
          jobNames: [jobName],
          limit: 1000,
          now: new Date(),
          leaseUntil: new Date(Date.now() + 60_000),
          leaseToken: token,
        }),
        admin().requeue(
          rows.map((r) => r.id),
          actor,
        ),
      ]);
      for (const job of claimed) expect((await suite.store.find(job.id))!.concurrencyStamp).toBe(token);
      // Whatever the order, each row was claimed or requeued (or both: requeued first, then claimed).
      const touched = new Set([...claimed.map((j) => j.id), ...requeued.done]);
      expect(touched.size).toBe(rows.length);
    });

    it('requeueWhere: all abandoned rows of one job name, page after page, and refuses other states', async () => {
      const jobName = unique('RequeueAll');
      const rows = Array.from({ length: 520 }, () => rowIn('abandoned', { jobName }));
      const other = rowIn('abandoned', { jobName: unique('RequeueOther') });
      await suite.store.insert([...rows, other]);
      const result = await admin().requeueWhere({ state: 'abandoned', jobName }, actor);
      expect(sorted(result.done)).toEqual(sorted(rows.map((r) => r.id)));
      expect(result.held).toEqual([]);
      expect((await admin().list({ state: 'abandoned', jobName })).items).toEqual([]);
      expect((await admin().get(other.id))!.state).toBe('abandoned');
      expect(logged).toEqual([
        expect.stringMatching(
          new RegExp(
            `^alice@127\\.0\\.0\\.1 requeued 520 job\\(s\\) \\(all abandoned of job name "${jobName}"\\): .* and 420 more$`,
          ),
        ),
      ]);
      for (const state of ['waiting', 'processing', 'nonsense'] as JobState[])
        await expect(admin().requeueWhere({ state, jobName }, actor)).rejects.toBeInstanceOf(AdminInputError);
    });
  });

  describe('run now', () => {
    it('makes scheduled rows due now and leaves every other state alone', async () => {
      const rows = await oneOfEach('RunNow');
      const result = await admin().runNow(
        Object.values(rows).map((r) => r.id),
        actor,
      );
      expect(result.done).toEqual([rows.scheduled.id]);
      expect(result.held).toEqual([rows.processing.id]);
      expect(sorted(result.missing)).toEqual(
        sorted([rows.waiting.id, rows.retrying.id, rows.abandoned.id, rows.succeeded.id]),
      );
      const after = (await suite.store.find(rows.scheduled.id))!;
      expect(after.nextTryTime.getTime()).toBeLessThanOrEqual(Date.now());
      expect(after.concurrencyStamp).not.toBe(rows.scheduled.concurrencyStamp);
      expect({ ...after, nextTryTime: 0, concurrencyStamp: 0 }).toEqual({
        ...rows.scheduled,
        nextTryTime: 0,
        concurrencyStamp: 0,
      });
      expect((await admin().get(rows.scheduled.id))!.state).toBe('waiting');
      for (const row of [rows.waiting, rows.retrying, rows.processing, rows.abandoned, rows.succeeded])
        expect(await suite.store.find(row.id)).toEqual(row);
      expect(logged).toEqual([expect.stringMatching(/^alice@127\.0\.0\.1 ran now 1 job\(s\): /)]);
    });
  });

  describe('delete', () => {
    it('deletes rows in any state but processing', async () => {
      const rows = await oneOfEach('Delete');
      const result = await admin().delete(
        Object.values(rows).map((r) => r.id),
        actor,
      );
      expect(sorted(result.done)).toEqual(
        sorted([rows.waiting.id, rows.scheduled.id, rows.retrying.id, rows.abandoned.id, rows.succeeded.id]),
      );
      expect(result.held).toEqual([rows.processing.id]);
      expect(result.missing).toEqual([]);
      for (const row of Object.values(rows))
        expect(await suite.store.find(row.id)).toEqual(row === rows.processing ? row : undefined);
      expect(await admin().delete([rows.waiting.id], actor)).toEqual({
        done: [],
        held: [],
        missing: [rows.waiting.id],
      });
      expect(logged[0]).toMatch(/^alice@127\.0\.0\.1 deleted 5 job\(s\): .*; refused 1 held by a worker: /);
    });

    it('deleteWhere: all rows of a state and job name; processing and unknown states are refused', async () => {
      const jobName = unique('DeleteAll');
      const abandoned = Array.from({ length: 3 }, () => rowIn('abandoned', { jobName }));
      const waiting = rowIn('waiting', { jobName });
      await suite.store.insert([...abandoned, waiting]);
      const result = await admin().deleteWhere({ state: 'abandoned', jobName }, actor);
      expect(sorted(result.done)).toEqual(sorted(abandoned.map((r) => r.id)));
      expect(await suite.store.find(waiting.id)).toEqual(waiting);
      await expect(admin().deleteWhere({ state: 'processing', jobName }, actor)).rejects.toBeInstanceOf(
        AdminInputError,
      );
      await expect(admin().deleteWhere({ state: 'gone' as JobState }, actor)).rejects.toBeInstanceOf(AdminInputError);
    });

    it('refuses ids that are not a list of text, or too many of them', async () => {
      await expect(admin().delete('x' as unknown as string[], actor)).rejects.toBeInstanceOf(AdminInputError);
      await expect(admin().delete([1] as unknown as string[], actor)).rejects.toBeInstanceOf(AdminInputError);
      await expect(
        admin().delete(
          Array.from({ length: 10_001 }, () => randomUUID()),
          actor,
        ),
      ).rejects.toBeInstanceOf(AdminInputError);
    });
  });
});

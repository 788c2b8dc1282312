import { randomBytes, randomUUID } from 'node:crypto';
import { BackgroundJobStore, EnqueueBatch } from '@app/background-jobs';
import { enqueueFingerprint } from '@app/background-jobs/store/enqueue-keys';
import { StoreBackend, storeBackends } from '../support/backends';
import { TestDatabase } from '../support/databases';
import { LEGACY_ROW, legacyTables } from '../support/legacy-tables';
import { openStore } from '../support/open-store';

/**
 * Enqueue keys (AbpBackgroundJobEnqueueKeys): an enqueue whose caller chose the ids writes a key
 * per job with its rows, all or none, and the key outlives the row, so the manager can tell a
 * repeat of the enqueue after the job has run. Every dialect must pass this unchanged.
 */
jest.setTimeout(30_000);

type Opened = Awaited<ReturnType<typeof openStore>>;

const T0 = new Date('2030-06-15T12:00:00.000Z');
const DAY = 24 * 60 * 60 * 1000;
const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;
const hex32 = () => randomBytes(16).toString('hex');

interface NewJob {
  id: string;
  jobName: string;
  jobArgs: string;
}

const newJob = (jobName: string, jobArgs = `{"n":"${hex32()}"}`): NewJob => ({ id: randomUUID(), jobName, jobArgs });
const fingerprintOf = (job: NewJob) => enqueueFingerprint(job.jobName, job.jobArgs);

/** The batch the manager would send: every job keyed unless `keyed` says otherwise. */
function batchOf(jobs: NewJob[], { keyed = true, creationTime = T0 } = {}): EnqueueBatch {
  return {
    applicationName: null,
    creationTime,
    jobs: jobs.map((job) => ({ ...job, priority: 15, nextTryTime: creationTime, concurrencyStamp: hex32() })),
    ...(keyed ? { keys: jobs.map((job) => ({ id: job.id, fingerprint: fingerprintOf(job) })) } : {}),
  };
}

const sortedKeys = async (store: BackgroundJobStore, ids: string[]) =>
  (await store.findEnqueueKeys(ids)).sort((a, b) => a.id.localeCompare(b.id));
const keysOf = (jobs: NewJob[]) =>
  jobs.map((job) => ({ id: job.id, fingerprint: fingerprintOf(job) })).sort((a, b) => a.id.localeCompare(b.id));

/*
 * Refusals are checked with rejects.toBeTruthy(), not toThrow(): better-sqlite3's native part
 * keeps the SqliteError class of the first test file that loaded it, so in a later file of the
 * same Jest process its errors are not `instanceof Error` and toThrow() reports no error at all.
 */

const label = (b: StoreBackend) => (b.available ? b.name : `${b.name} (skipped: ${b.skipReason ?? 'not available'})`);

describe.each(storeBackends.map((b) => [label(b), b] as const))(
  'BackgroundJobStore enqueue keys: %s',
  (_label, backend) => {
    if (!backend.available) {
      it.skip(`skipped: ${backend.skipReason ?? 'not available'}`, () => undefined);
      return;
    }

    let database: TestDatabase;
    let main: Opened;
    let store: BackgroundJobStore;
    const extra: Opened[] = [];
    const extraDatabases: TestDatabase[] = [];

    const freshStore = async () => {
      const db = await backend.create();
      extraDatabases.push(db);
      const opened = await openStore(db.connectionString, backend.provider);
      extra.push(opened);
      return opened;
    };

    beforeAll(async () => {
      database = await backend.create();
      main = await openStore(database.connectionString, backend.provider);
      store = main.store;
      await store.migrate();
    });

    afterAll(async () => {
      for (const opened of extra.splice(0)) await opened.close().catch(() => undefined);
      await main?.close().catch(() => undefined);
      for (const db of [...extraDatabases.splice(0), database]) await db?.drop();
    });

    it("writes each keyed job's key with its row; finds keys by id, in lower case, and only those", async () => {
      const jobs = [newJob(unique('Keyed')), newJob(unique('Keyed'))];
      await store.enqueue(batchOf(jobs));
      for (const job of jobs)
        expect(await store.find(job.id)).toMatchObject({ jobName: job.jobName, jobArgs: job.jobArgs });
      expect(await sortedKeys(store, [...jobs.map((j) => j.id.toUpperCase()), randomUUID()])).toEqual(keysOf(jobs));
      expect(await store.findEnqueueKeys([])).toEqual([]);
    });

    it('writes no key for an enqueue without chosen ids', async () => {
      const job = newJob(unique('Unkeyed'));
      await store.enqueue(batchOf([job], { keyed: false }));
      expect(await store.find(job.id)).toBeDefined();
      expect(await store.findEnqueueKeys([job.id])).toEqual([]);
    });

    it('writes nothing of a keyed batch when one id has a key already', async () => {
      const queued = newJob(unique('Taken'));
      await store.enqueue(batchOf([queued]));
      const fresh = newJob(queued.jobName);
      await expect(store.enqueue(batchOf([fresh, queued]))).rejects.toBeTruthy();
      expect(await store.find(fresh.id)).toBeUndefined();
      expect(await store.findEnqueueKeys([fresh.id])).toEqual([]);
    });

    it('writes no key of a keyed batch when one id has a row but no key', async () => {
      const queued = newJob(unique('RowOnly'));
      await store.enqueue(batchOf([queued], { keyed: false }));
      const fresh = newJob(queued.jobName);
      await expect(store.enqueue(batchOf([fresh, queued]))).rejects.toBeTruthy();
      expect(await store.find(fresh.id)).toBeUndefined();
      expect(await store.findEnqueueKeys([fresh.id, queued.id])).toEqual([]);
    });

    it('keeps the key once the job has run and its row is gone, so a repeat is refused and the key still names the job', async () => {
      const job = newJob(unique('Ran'));
      await store.enqueue(batchOf([job]));
      const leaseToken = `lease:${hex32()}`;
      const claimed = await store.claim({
        applicationName: null,
        jobNames: [job.jobName],
        limit: 10,
        now: T0,
        leaseUntil: new Date(T0.getTime() + 60_000),
        leaseToken,
      });
      expect(claimed.map((c) => c.id)).toEqual([job.id]);
      expect(await store.complete(leaseToken, [job.id])).toBe(1);
      expect(await store.find(job.id)).toBeUndefined();

      const [key] = await store.findEnqueueKeys([job.id]);
      expect(key).toEqual({ id: job.id, fingerprint: fingerprintOf(job) });
      expect(key.fingerprint).not.toBe(enqueueFingerprint(job.jobName, '{"n":"another"}'));

      await expect(store.enqueue(batchOf([job]))).rejects.toBeTruthy();
      expect(await store.find(job.id)).toBeUndefined();
    });

    it('deletes keys created before a time, oldest first, at most `limit` per call', async () => {
      // Years before every other test's keys, so the cut-off touches only these.
      const base = new Date('2020-01-10T00:00:00.000Z');
      const at = (days: number) => new Date(base.getTime() + days * DAY);
      const jobName = unique('Purge');
      const oldest = newJob(jobName);
      const old = [newJob(jobName), newJob(jobName), newJob(jobName)];
      const recent = [newJob(jobName), newJob(jobName)];
      await store.enqueue(batchOf([oldest], { creationTime: at(-9) }));
      await store.enqueue(batchOf(old, { creationTime: at(-8) }));
      await store.enqueue(batchOf(recent, { creationTime: at(0) }));
      const ids = [oldest, ...old, ...recent].map((j) => j.id);

      expect(await store.deleteEnqueueKeysBefore(at(-7), 1)).toBe(1);
      expect(await sortedKeys(store, ids)).toEqual(keysOf([...old, ...recent]));
      expect(await store.deleteEnqueueKeysBefore(at(-7), 2)).toBe(2);
      expect(await store.deleteEnqueueKeysBefore(at(-7), 2)).toBe(1);
      expect(await store.deleteEnqueueKeysBefore(at(-7), 2)).toBe(0);
      expect(await sortedKeys(store, ids)).toEqual(keysOf(recent));
      // A key created exactly at the cut-off stays.
      expect(await store.deleteEnqueueKeysBefore(at(0), 10)).toBe(0);
      expect(await sortedKeys(store, ids)).toEqual(keysOf(recent));
      // Deleting keys leaves the job rows alone.
      for (const job of [oldest, ...old]) expect(await store.find(job.id)).toBeDefined();
    });

    it('migrates twice, and from two stores at once, on a fresh database', async () => {
      const first = await freshStore();
      const second = await openStore(extraDatabases[extraDatabases.length - 1].connectionString, backend.provider);
      extra.push(second);
      await Promise.all([first.store.migrate(), second.store.migrate()]);
      const job = newJob(unique('Twice'));
      await first.store.enqueue(batchOf([job]));
      await first.store.migrate();
      expect(await second.store.findEnqueueKeys([job.id])).toEqual(keysOf([job]));
    });

    (backend.sql ? it : it.skip)(
      "adds the keys table beside an existing ABP table that has none, keeping the table's rows",
      async () => {
        if (backend.name === 'memory') return;
        const opened = await freshStore();
        for (const statement of legacyTables[backend.name].statements) await opened.dataSource.query(statement);
        await expect(opened.store.findEnqueueKeys([randomUUID()])).rejects.toBeTruthy();

        await opened.store.migrate();

        expect(await opened.store.find(LEGACY_ROW.id)).toMatchObject({
          jobName: LEGACY_ROW.jobName,
          jobArgs: LEGACY_ROW.jobArgs,
        });
        const job = newJob(unique('Adopted'));
        await opened.store.enqueue(batchOf([job]));
        expect(await opened.store.findEnqueueKeys([job.id])).toEqual(keysOf([job]));
      },
    );
  },
);

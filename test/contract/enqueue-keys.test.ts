import { randomBytes, randomUUID } from 'node:crypto';
import { BackgroundJobStore, EnqueueBatch } from '@app/background-jobs';
import { enqueueFingerprint } from '@app/background-jobs/store/enqueue-keys';
import { storeBackends } from '../support/backends';
import { LEGACY_ROW, legacyTables } from '../support/legacy-tables';
import { describeOnStoreBackends } from '../support/store-suite';

/**
 * Enqueue keys (AbpBackgroundJobEnqueueKeys): an enqueue whose caller chose the ids writes a key
 * per job with its rows, all or none, and the key outlives the row, so the manager can tell a
 * repeat of the enqueue after the job has run. Every dialect must pass this unchanged.
 */
jest.setTimeout(30_000);

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

describeOnStoreBackends('BackgroundJobStore enqueue keys: %s', storeBackends, (suite) => {
  const { backend, open, freshDatabase } = suite;
  const freshStore = async () => open((await freshDatabase()).connectionString);

  it("writes each keyed job's key with its row; finds keys by id, in lower case, and only those", async () => {
    const jobs = [newJob(unique('Keyed')), newJob(unique('Keyed'))];
    await suite.store.enqueue(batchOf(jobs));
    for (const job of jobs)
      expect(await suite.store.find(job.id)).toMatchObject({ jobName: job.jobName, jobArgs: job.jobArgs });
    expect(await sortedKeys(suite.store, [...jobs.map((j) => j.id.toUpperCase()), randomUUID()])).toEqual(keysOf(jobs));
    expect(await suite.store.findEnqueueKeys([])).toEqual([]);
  });

  it('writes no key for an enqueue without chosen ids', async () => {
    const job = newJob(unique('Unkeyed'));
    await suite.store.enqueue(batchOf([job], { keyed: false }));
    expect(await suite.store.find(job.id)).toBeDefined();
    expect(await suite.store.findEnqueueKeys([job.id])).toEqual([]);
  });

  it('writes nothing of a keyed batch when one id has a key already', async () => {
    const queued = newJob(unique('Taken'));
    await suite.store.enqueue(batchOf([queued]));
    const fresh = newJob(queued.jobName);
    await expect(suite.store.enqueue(batchOf([fresh, queued]))).rejects.toBeTruthy();
    expect(await suite.store.find(fresh.id)).toBeUndefined();
    expect(await suite.store.findEnqueueKeys([fresh.id])).toEqual([]);
  });

  it('writes no key of a keyed batch when one id has a row but no key', async () => {
    const queued = newJob(unique('RowOnly'));
    await suite.store.enqueue(batchOf([queued], { keyed: false }));
    const fresh = newJob(queued.jobName);
    await expect(suite.store.enqueue(batchOf([fresh, queued]))).rejects.toBeTruthy();
    expect(await suite.store.find(fresh.id)).toBeUndefined();
    expect(await suite.store.findEnqueueKeys([fresh.id, queued.id])).toEqual([]);
  });

  it('keeps the key once the job has run and its row is gone, so a repeat is refused and the key still names the job', async () => {
    const job = newJob(unique('Ran'));
    await suite.store.enqueue(batchOf([job]));
    const leaseToken = `lease:${hex32()}`;
    const claimed = await suite.store.claim({
      applicationName: null,
      jobNames: [job.jobName],
      limit: 10,
      now: T0,
      leaseUntil: new Date(T0.getTime() + 60_000),
      leaseToken,
    });
    expect(claimed.map((c) => c.id)).toEqual([job.id]);
    expect(await suite.store.complete(leaseToken, [job.id])).toBe(1);
    expect(await suite.store.find(job.id)).toBeUndefined();

    const [key] = await suite.store.findEnqueueKeys([job.id]);
    expect(key).toEqual({ id: job.id, fingerprint: fingerprintOf(job) });
    expect(key.fingerprint).not.toBe(enqueueFingerprint(job.jobName, '{"n":"another"}'));

    await expect(suite.store.enqueue(batchOf([job]))).rejects.toBeTruthy();
    expect(await suite.store.find(job.id)).toBeUndefined();
  });

  it('deletes keys created before a time, oldest first, at most `limit` per call', async () => {
    // Years before every other test's keys, so the cut-off touches only these.
    const base = new Date('2020-01-10T00:00:00.000Z');
    const at = (days: number) => new Date(base.getTime() + days * DAY);
    const jobName = unique('Purge');
    const oldest = newJob(jobName);
    const old = [newJob(jobName), newJob(jobName), newJob(jobName)];
    const recent = [newJob(jobName), newJob(jobName)];
    await suite.store.enqueue(batchOf([oldest], { creationTime: at(-9) }));
    await suite.store.enqueue(batchOf(old, { creationTime: at(-8) }));
    await suite.store.enqueue(batchOf(recent, { creationTime: at(0) }));
    const ids = [oldest, ...old, ...recent].map((j) => j.id);

    expect(await suite.store.deleteEnqueueKeysBefore(at(-7), 1)).toBe(1);
    expect(await sortedKeys(suite.store, ids)).toEqual(keysOf([...old, ...recent]));
    expect(await suite.store.deleteEnqueueKeysBefore(at(-7), 2)).toBe(2);
    expect(await suite.store.deleteEnqueueKeysBefore(at(-7), 2)).toBe(1);
    expect(await suite.store.deleteEnqueueKeysBefore(at(-7), 2)).toBe(0);
    expect(await sortedKeys(suite.store, ids)).toEqual(keysOf(recent));
    // A key created exactly at the cut-off stays.
    expect(await suite.store.deleteEnqueueKeysBefore(at(0), 10)).toBe(0);
    expect(await sortedKeys(suite.store, ids)).toEqual(keysOf(recent));
    // Deleting keys leaves the job rows alone.
    for (const job of [oldest, ...old]) expect(await suite.store.find(job.id)).toBeDefined();
  });

  it('migrates twice, and from two stores at once, on a fresh database', async () => {
    const { connectionString } = await freshDatabase();
    const first = await open(connectionString);
    const second = await open(connectionString);
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
});

import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { EnqueueBatch } from '@app/background-jobs';
import { NotInTransactionError } from '@app/background-jobs/store/caller-transaction';
import { uniqueJobId } from '@app/background-jobs/store/derived-ids';
import { enqueueUnique } from '@app/background-jobs/store/unique-enqueue';
import { backends } from '../support/backends';
import { jobRecord } from '../support/job-records';
import { describeOnStoreBackends } from '../support/store-suite';
import { waitFor } from '../support/wait-for';

/**
 * Enqueue in the caller's transaction (store.withinTransaction(entityManager)): the job rows go
 * through the connection of a running TypeORM transaction and commit or roll back with the
 * caller's own rows. SQL databases only: the in-memory store has no transactions.
 */
jest.setTimeout(30_000);

const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;
const hex32 = () => randomBytes(16).toString('hex');

function batchOf(count: number, jobName: string, keyed = false): EnqueueBatch {
  const now = new Date();
  const jobs = Array.from({ length: count }, () => ({
    id: randomUUID(),
    jobName,
    jobArgs: '{}',
    priority: 15,
    nextTryTime: now,
    concurrencyStamp: hex32(),
  }));
  return {
    applicationName: null,
    creationTime: now,
    jobs,
    ...(keyed ? { keys: jobs.map((j) => ({ id: j.id, fingerprint: 'ab'.repeat(32) })) } : {}),
  };
}

class RolledBack extends Error {}

describeOnStoreBackends('Enqueue in the caller’s transaction: %s', backends, (suite) => {
  const q = (name: string) => dataSource().driver.escape(name);
  const dataSource = (): DataSource => suite.opened.dataSource;
  const callerRows = async (marker: number) =>
    (await dataSource().query<unknown[]>(`SELECT ${q('Id')} FROM ${q('CallerOrders')} WHERE ${q('Id')} = ${marker}`))
      .length;
  let nextMarker = 1;
  /** Runs `work` in a transaction that also writes a row of the caller's own; rolls back when told. */
  async function inCallerTransaction(rollback: boolean, work: (manager: EntityManager) => Promise<void>) {
    const marker = nextMarker++;
    await dataSource()
      .transaction(async (manager) => {
        await manager.query(`INSERT INTO ${q('CallerOrders')} (${q('Id')}) VALUES (${marker})`);
        await work(manager);
        if (rollback) throw new RolledBack();
      })
      .catch((error: unknown) => {
        if (!(error instanceof RolledBack)) throw error;
      });
    return marker;
  }

  beforeAll(async () => {
    await dataSource().query(`CREATE TABLE ${q('CallerOrders')} (${q('Id')} int NOT NULL)`);
  });

  it('commits the job rows with the caller’s row, and none is seen by others before', async () => {
    const batch = batchOf(2, unique('Tx'));
    const other = await suite.open();
    const marker = await inCallerTransaction(false, async (manager) => {
      await suite.store.withinTransaction(manager).enqueue(batch);
      expect(await other.store.find(batch.jobs[0].id)).toBeUndefined();
    });
    expect(await callerRows(marker)).toBe(1);
    for (const job of batch.jobs) expect(await other.store.find(job.id)).toMatchObject({ jobName: job.jobName });
  });

  it('rolls the job rows back with the caller’s row, keys and a batch of several statements too', async () => {
    const jobName = unique('Rollback');
    const plain = batchOf(1, jobName);
    const keyed = batchOf(2, jobName, true);
    const large = batchOf(1200, jobName);
    const marker = await inCallerTransaction(true, async (manager) => {
      const store = suite.store.withinTransaction(manager);
      await store.enqueue(plain);
      await store.enqueue(keyed);
      await store.enqueue(large);
      expect(await store.uniqueJobs.current(large.jobs[1199].id)).toBeDefined();
    });
    expect(await callerRows(marker)).toBe(0);
    for (const job of [...plain.jobs, ...keyed.jobs, large.jobs[0], large.jobs[1199]])
      expect(await suite.store.find(job.id)).toBeUndefined();
    expect(await suite.store.findEnqueueKeys(keyed.jobs.map((j) => j.id))).toEqual([]);
  });

  it('enqueues a unique job in the transaction: gone on rollback, one row on commit', async () => {
    const key = unique('key');
    const jobName = unique('UniqueTx');
    const row = () =>
      jobRecord({ id: uniqueJobId(null, jobName, key), jobName, extraProperties: JSON.stringify({ UniqueKey: key }) });
    await inCallerTransaction(true, async (manager) => {
      expect(await enqueueUnique(suite.store.withinTransaction(manager), row(), 'keep', randomUUID)).toBe('enqueued');
    });
    expect(await suite.store.find(uniqueJobId(null, jobName, key))).toBeUndefined();
    await inCallerTransaction(false, async (manager) => {
      const store = suite.store.withinTransaction(manager);
      expect(await enqueueUnique(store, row(), 'keep', randomUUID)).toBe('enqueued');
      expect(await enqueueUnique(store, row(), 'replace', randomUUID)).toBe('replaced');
    });
    expect(await enqueueUnique(suite.store, row(), 'keep', randomUUID)).toBe('kept');
  });

  it('refuses an EntityManager that is not in a transaction, naming what to pass', async () => {
    expect(() => suite.store.withinTransaction(dataSource().manager)).toThrow(NotInTransactionError);
    const runner = dataSource().createQueryRunner();
    await runner.connect();
    expect(() => suite.store.withinTransaction(runner.manager)).toThrow(/transaction has not started/);
    await runner.release();
    expect(() => suite.store.withinTransaction(runner.manager)).toThrow(NotInTransactionError);
  });

  if (suite.backend.name === 'postgres') {
    it('wakes listening workers when the transaction commits, not before', async () => {
      const { connectionString } = suite.database;
      const listener = new Client({ connectionString });
      await listener.connect();
      const heard: number[] = [];
      listener.on('notification', () => heard.push(Date.now()));
      await listener.query('LISTEN abp_background_jobs');
      try {
        let committing = 0;
        await inCallerTransaction(false, async (manager) => {
          await suite.store.withinTransaction(manager).enqueue(batchOf(1, unique('Notify')));
          await new Promise((resolve) => setTimeout(resolve, 300));
          expect(heard).toEqual([]);
          committing = Date.now();
        });
        await waitFor('the notification', () => heard.length > 0, 5000, 10);
        expect(heard[0]).toBeGreaterThanOrEqual(committing);
        heard.length = 0;
        await inCallerTransaction(true, async (manager) => {
          await suite.store.withinTransaction(manager).enqueue(batchOf(1, unique('Notify')));
        });
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(heard).toEqual([]);
      } finally {
        await listener.end();
      }
    });
  }
});

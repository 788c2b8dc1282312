import { randomBytes, randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { AsyncBackgroundJob, BackgroundJobContext, BackgroundJobRecord, resolveOptions } from '@app/background-jobs';
import { BackgroundJobRegistry } from '@app/background-jobs/background-job.registry';
import { cancelJob } from '@app/background-jobs/cancellation/cancel-job';
import { CancellationWatcher } from '@app/background-jobs/cancellation/cancellation-watcher';
import { JobCancelledError } from '@app/background-jobs/cancellation/job-cancelled.error';
import { BackgroundJobWorker, createBackgroundJobWorker } from '@app/background-jobs/worker/background-job-worker';
import { JobRunner } from '@app/background-jobs/worker/job-runner';
import { storeBackends } from '../support/backends';
import { jobRecord } from '../support/job-records';
import { describeOnStoreBackends } from '../support/store-suite';
import { waitFor } from '../support/wait-for';

/**
 * Cancel, on every store: a waiting job is abandoned at once; a held one gets a request that the
 * worker holding it sees within about a second (a NOTIFY on PostgreSQL), which aborts the job.
 */
jest.setTimeout(30_000);

const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;
const hex32 = () => randomBytes(16).toString('hex');
const later = (ms: number) => new Date(Date.now() + ms);
const quiet = new Logger('cancellation-test');

const row = (overrides: Partial<BackgroundJobRecord> = {}) =>
  jobRecord({ jobName: 'CancelJobArgs', jobArgs: '{}', extraProperties: '{"Kept":1}', ...overrides });

class ProbeArgs {}

/** Runs until its signal fires; notes when it did and why. */
class SignalledJob extends AsyncBackgroundJob<ProbeArgs> {
  readonly started = new Map<string, number>();
  readonly aborted = new Map<string, { at: number; reason: unknown }>();

  execute(_args: ProbeArgs, context: BackgroundJobContext): Promise<void> {
    this.started.set(context.jobId, Date.now());
    return new Promise((_resolve, reject) =>
      context.signal.addEventListener('abort', () => {
        this.aborted.set(context.jobId, { at: Date.now(), reason: context.signal.reason });
        reject(context.signal.reason as Error);
      }),
    );
  }
}

describeOnStoreBackends('Cancel: %s', storeBackends, (suite) => {
  const cancellations = () => suite.store.cancellations;

  describe('store.cancellations', () => {
    it('abandonWaiting abandons a live row only under the stamp read, never one a live lease holds', async () => {
      const now = new Date();
      const waiting = row();
      const held = row({ concurrencyStamp: `lease:${hex32()}`, nextTryTime: later(60_000) });
      const expired = row({ concurrencyStamp: `lease:${hex32()}`, nextTryTime: later(-1000) });
      const abandoned = row({ isAbandoned: true });
      await suite.store.insert([waiting, held, expired, abandoned]);
      const cancel = (r: BackgroundJobRecord, expectedStamp = r.concurrencyStamp) =>
        cancellations().abandonWaiting(
          { id: r.id.toUpperCase(), expectedStamp, extraProperties: '{"LastError":"cancelled"}', newStamp: hex32() },
          now,
        );
      expect(await cancel(waiting, 'another stamp')).toBe(false);
      expect(await cancel(waiting)).toBe(true);
      expect(await cancel(held)).toBe(false);
      expect(await cancel(expired)).toBe(true);
      expect(await cancel(abandoned)).toBe(false);
      expect(await suite.store.find(waiting.id)).toMatchObject({
        isAbandoned: true,
        extraProperties: '{"LastError":"cancelled"}',
      });
      expect(await suite.store.find(held.id)).toEqual(held);
    });

    it('keeps one request per job (a new one replaces it), finds them by id in any case, deletes them', async () => {
      const [a, b] = [randomUUID(), randomUUID()];
      const created = new Date('2030-01-01T00:00:00.123Z');
      await cancellations().request({ id: a, jobCreationTime: created, requestedBy: 'alice' }, new Date());
      await cancellations().request({ id: a.toUpperCase(), jobCreationTime: created, requestedBy: 'bob' }, new Date());
      await cancellations().request({ id: b, jobCreationTime: created, requestedBy: null }, new Date());
      const found = await cancellations().findRequests([a.toUpperCase(), b, randomUUID()]);
      expect(found.sort((x, y) => x.id.localeCompare(y.id))).toEqual(
        [
          { id: a, jobCreationTime: created, requestedBy: 'bob' },
          { id: b, jobCreationTime: created, requestedBy: null },
        ].sort((x, y) => x.id.localeCompare(y.id)),
      );
      expect(await cancellations().findRequests([])).toEqual([]);
      await cancellations().deleteRequests([a.toUpperCase()]);
      expect((await cancellations().findRequests([a, b])).map((r) => r.id)).toEqual([b]);
    });

    it('deletes the requests of finished or deleted jobs, and keeps those of live ones', async () => {
      const live = row();
      const done = row({ isAbandoned: true });
      await suite.store.insert([live, done]);
      const gone = randomUUID();
      for (const id of [live.id, done.id, gone])
        await cancellations().request({ id, jobCreationTime: new Date(), requestedBy: 'x' }, new Date());
      let deleted = 0;
      for (let n = -1; n !== 0; deleted += n) n = await cancellations().deleteSettledRequests(1);
      expect(deleted).toBeGreaterThanOrEqual(2);
      expect((await cancellations().findRequests([live.id, done.id, gone])).map((r) => r.id)).toEqual([live.id]);
    });
  });

  describe('cancelJob', () => {
    it('abandons a waiting job at once, with LastError "cancelled" and who cancelled, keeping its bag', async () => {
      const waiting = row({ tryCount: 2 });
      await suite.store.insert([waiting]);
      expect(await cancelJob(suite.store, waiting.id, 'alice')).toBe('cancelled');
      const after = (await suite.store.find(waiting.id))!;
      expect(after.isAbandoned).toBe(true);
      expect(JSON.parse(after.extraProperties)).toMatchObject({
        Kept: 1,
        LastError: 'cancelled',
        LastErrorTryCount: 2,
        CancelledBy: 'alice',
      });
      expect(await cancelJob(suite.store, waiting.id, 'alice')).toBe('finished');
      expect(await cancelJob(suite.store, randomUUID(), 'alice')).toBe('not-found');
    });

    it('leaves a request for a job a worker holds, for the row it is (its CreationTime)', async () => {
      const held = row({ concurrencyStamp: `lease:${hex32()}`, nextTryTime: later(60_000) });
      await suite.store.insert([held]);
      expect(await cancelJob(suite.store, held.id, 'bob')).toBe('cancelling');
      expect(await suite.store.find(held.id)).toEqual(held);
      expect(await cancellations().findRequests([held.id])).toEqual([
        { id: held.id, jobCreationTime: held.creationTime, requestedBy: 'bob' },
      ]);
    });
  });

  describe('a worker holding the job', () => {
    let worker: BackgroundJobWorker | undefined;
    let watcher: CancellationWatcher | undefined;
    afterEach(async () => {
      await watcher?.stop();
      await worker?.stop(1000);
      worker = watcher = undefined;
    });

    async function startWorker(jobName: string, job: SignalledJob) {
      const registry = new BackgroundJobRegistry();
      registry.register({
        jobName,
        argsType: ProbeArgs,
        jobTypeName: 'SignalledJob',
        resolve: async () => job,
        instance: job,
      });
      const options = resolveOptions({
        worker: { maxParallelJobExecutionCount: 2, maxJobFetchCount: 4, jobPollPeriod: 100, jobLeaseDuration: 30 },
      }).worker;
      worker = createBackgroundJobWorker(suite.store, new JobRunner(registry, 0), options, [jobName], quiet);
      watcher = new CancellationWatcher(suite.store.cancellations, quiet);
      watcher.attach(worker);
      await worker.start();
      await watcher.start();
    }

    it('aborts the running job within about a second of cancel, and leaves its row abandoned as cancelled', async () => {
      const jobName = unique('Cancelled');
      const job = new SignalledJob();
      await startWorker(jobName, job);
      const running = row({ jobName });
      const other = row({ jobName });
      await suite.store.insert([running, other]);
      await waitFor('both jobs to start', () => job.started.size === 2, 10_000, 10);

      const cancelledAt = Date.now();
      expect(await cancelJob(suite.store, running.id, 'carol')).toBe('cancelling');
      await waitFor('the job to be aborted', () => job.aborted.get(running.id), 5000, 10);
      const { at, reason } = job.aborted.get(running.id)!;
      expect(reason).toBeInstanceOf(JobCancelledError);
      // A second's poll, or on PostgreSQL the NOTIFY (its poll, a safety net, comes every 10 s).
      expect(at - cancelledAt).toBeLessThan(1500);
      const ended = await waitFor('the row to be abandoned', async () => {
        const r = await suite.store.find(running.id);
        return r?.isAbandoned ? r : undefined;
      });
      expect(JSON.parse(ended.extraProperties)).toMatchObject({ LastError: 'cancelled', CancelledBy: 'carol' });
      // Once its worker no longer holds the row, the next look deletes the request.
      await waitFor('the request to be deleted', async () => {
        await watcher!.checkNow();
        return (await cancellations().findRequests([running.id])).length === 0;
      });
      expect(job.aborted.has(other.id)).toBe(false);
      expect((await suite.store.find(other.id))?.isAbandoned).toBe(false);
    });

    it('ignores a request left over from an earlier job of the same id', async () => {
      const jobName = unique('Leftover');
      const job = new SignalledJob();
      const running = row({ jobName });
      await cancellations().request(
        { id: running.id, jobCreationTime: new Date(running.creationTime.getTime() - 1000), requestedBy: 'old' },
        new Date(),
      );
      await suite.store.insert([running]);
      await startWorker(jobName, job);
      await waitFor('the job to start', () => job.started.has(running.id), 10_000, 10);
      await watcher!.checkNow();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(job.aborted.has(running.id)).toBe(false);
    });
  });
});

import { Injectable, Module, Scope } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { createSqliteDatabase, TestDatabase } from '../../../test/support/databases';
import { AsyncBackgroundJob } from './async-background-job';
import { IBackgroundJobManager, JobIdTakenError } from './background-job-manager';
import { BackgroundJobPriority } from './background-job-priority';
import { BackgroundJobRegistry } from './background-job.registry';
import { BackgroundJobsModule } from './background-jobs.module';
import { MAX_JOB_ARGS_LENGTH } from './background-jobs.constants';
import { parseConnectionString } from './connection/connection-string';
import { BackgroundJob } from './decorators/background-job.decorator';
import { BackgroundJobName } from './decorators/background-job-name.decorator';
import { DuplicateBackgroundJobError, JobArgsTooLargeError, UndefinedBackgroundJobError } from './errors';
import { BACKGROUND_JOB_STORE, BackgroundJobStore } from './store/background-job-store';
import { deleteExpiredEnqueueKeys, ENQUEUE_KEY_RETENTION_MS } from './store/enqueue-keys';
import { newConcurrencyStamp } from './store/stamps';

@BackgroundJobName('Reports.Send')
class SendReportArgs {
  constructor(
    public reportTitle: string,
    public recipientCount: number,
  ) {}
}

class PlainArgs {
  value?: unknown;
}

class UnregisteredArgs {}

@Injectable()
@BackgroundJob(SendReportArgs)
class SendReportJob extends AsyncBackgroundJob<SendReportArgs> {
  async execute(): Promise<void> {}
}

@Injectable({ scope: Scope.TRANSIENT })
// eslint-disable-next-line @typescript-eslint/no-deprecated -- checks that the deprecated alias still works
@BackgroundJob(PlainArgs, { timeout: 1500 })
class PlainJob extends AsyncBackgroundJob<PlainArgs> {
  async execute(): Promise<void> {}
}

@Injectable()
@BackgroundJob(SendReportArgs)
class SecondSendReportJob extends AsyncBackgroundJob<SendReportArgs> {
  async execute(): Promise<void> {}
}

const HEX32 = /^[0-9a-f]{32}$/;

function compile(database: TestDatabase, jobs: Array<new (...args: never[]) => unknown>): Promise<TestingModule> {
  return Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot(parseConnectionString(database.connectionString).typeorm),
      BackgroundJobsModule.forRoot({ isJobExecutionEnabled: false, worker: { applicationName: 'unit-app' } }),
    ],
    providers: jobs,
  }).compile();
}

describe('BackgroundJobExplorer and BackgroundJobManager over SQLite', () => {
  let database: TestDatabase;
  let app: TestingModule;
  let manager: IBackgroundJobManager;
  let store: BackgroundJobStore;

  beforeAll(async () => {
    database = await createSqliteDatabase();
    app = await compile(database, [SendReportJob, PlainJob]);
    await app.init();
    manager = app.get(IBackgroundJobManager);
    store = app.get(BACKGROUND_JOB_STORE);
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  describe('explorer', () => {
    it('registers decorated providers under the args name, or the class name by default', () => {
      const registry = app.get(BackgroundJobRegistry);
      expect(registry.jobNames.sort()).toEqual(['PlainArgs', 'Reports.Send']);
      expect(registry.getByName('Reports.Send')).toMatchObject({
        argsType: SendReportArgs,
        jobTypeName: 'SendReportJob',
      });
      expect(registry.getByName('PlainArgs')).toMatchObject({
        argsType: PlainArgs,
        jobTypeName: 'PlainJob',
        timeoutMs: 1500,
      });
    });

    it('resolves singletons once and transient jobs anew', async () => {
      const registry = app.get(BackgroundJobRegistry);
      const single = registry.getByName('Reports.Send');
      expect(await single.resolve()).toBeInstanceOf(SendReportJob);
      expect(await single.resolve()).toBe(await single.resolve());
      const transient = registry.getByName('PlainArgs');
      const [a, b] = [await transient.resolve(), await transient.resolve()];
      expect(a).toBeInstanceOf(PlainJob);
      expect(a).not.toBe(b);
    });

    it('stops start-up when two jobs claim one job name, naming both classes', async () => {
      const other = await createSqliteDatabase();
      try {
        const duplicate = await compile(other, [SendReportJob, SecondSendReportJob]);
        const started = duplicate.init();
        await expect(started).rejects.toThrow(DuplicateBackgroundJobError);
        await expect(started).rejects.toThrow(/SendReportJob and SecondSendReportJob/);
        await duplicate.close().catch(() => undefined);
      } finally {
        await other.drop();
      }
    });

    it('registers a job class once when two modules both provide it', async () => {
      @Module({ providers: [SendReportJob], exports: [SendReportJob] })
      class FirstJobsModule {}
      @Module({ providers: [SendReportJob], exports: [SendReportJob] })
      class SecondJobsModule {}
      const other = await createSqliteDatabase();
      try {
        const twice = await Test.createTestingModule({
          imports: [
            TypeOrmModule.forRoot(parseConnectionString(other.connectionString).typeorm),
            BackgroundJobsModule.forRoot({ isJobExecutionEnabled: false }),
            FirstJobsModule,
            SecondJobsModule,
          ],
        }).compile();
        await twice.init();
        expect(twice.get(BackgroundJobRegistry).jobNames).toEqual(['Reports.Send']);
        await twice.close();
      } finally {
        await other.drop();
      }
    });
  });

  describe('manager', () => {
    it("writes ABP's column values for an enqueued job", async () => {
      const before = Date.now();
      const id = await manager.enqueue(new SendReportArgs('Q3 figures', 2));
      const after = Date.now();
      const row = await store.find(id);
      expect(row).toMatchObject({
        id,
        applicationName: 'unit-app',
        jobName: 'Reports.Send',
        jobArgs: '{"reportTitle":"Q3 figures","recipientCount":2}',
        tryCount: 0,
        lastTryTime: null,
        isAbandoned: false,
        priority: BackgroundJobPriority.Normal,
        completionTime: null,
        extraProperties: '{}',
      });
      expect(row!.concurrencyStamp).toMatch(HEX32);
      expect(row!.creationTime.getTime()).toBeGreaterThanOrEqual(before);
      expect(row!.creationTime.getTime()).toBeLessThanOrEqual(after);
      expect(row!.nextTryTime).toEqual(row!.creationTime);
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    });

    it('delays NextTryTime and keeps the priority given', async () => {
      const id = await manager.enqueue(new SendReportArgs('later', 1), {
        priority: BackgroundJobPriority.High,
        delay: 90_000,
      });
      const row = (await store.find(id))!;
      expect(row.priority).toBe(25);
      expect(row.nextTryTime.getTime() - row.creationTime.getTime()).toBe(90_000);
    });

    it.each([
      ['a negative delay', { delay: -1 }, /delay/],
      ['an endless delay', { delay: Infinity }, /delay/],
      ['a priority beyond a tinyint', { priority: 300 }, /priority/],
    ])('refuses %s and writes nothing', async (_what, options, message) => {
      const count = await store.count();
      await expect(manager.enqueue(new SendReportArgs('x', 1), options)).rejects.toThrow(message);
      expect(await store.count()).toBe(count);
    });

    it('refuses JobArgs over 1,048,576 characters and writes nothing', async () => {
      const count = await store.count();
      const args = new SendReportArgs('x'.repeat(MAX_JOB_ARGS_LENGTH), 0);
      await expect(manager.enqueue(args)).rejects.toThrow(JobArgsTooLargeError);
      expect(await store.count()).toBe(count);
    });

    it('accepts JobArgs of exactly 1,048,576 characters', async () => {
      const padding = MAX_JOB_ARGS_LENGTH - JSON.stringify({ value: '' }).length;
      const id = await manager.enqueueByName('PlainArgs', { value: 'x'.repeat(padding) });
      expect((await store.find(id))!.jobArgs).toHaveLength(MAX_JOB_ARGS_LENGTH);
    });

    it('enqueues by name with a plain object', async () => {
      const id = await manager.enqueueByName('PlainArgs', { value: { nested: [1, 'two'] } });
      expect(await store.find(id)).toMatchObject({
        jobName: 'PlainArgs',
        jobArgs: '{"value":{"nested":[1,"two"]}}',
        priority: 15,
      });
      await expect(manager.enqueueByName('NoSuchJob', {})).rejects.toThrow(
        new UndefinedBackgroundJobError('NoSuchJob'),
      );
    });

    it('refuses args of a class no job is registered for', async () => {
      await expect(manager.enqueue(new UnregisteredArgs())).rejects.toThrow(
        'Undefined background job for the job args type/name: UnregisteredArgs',
      );
    });

    it('enqueues many in one call, returning ids in order', async () => {
      const ids = await manager.enqueueMany([
        { args: new SendReportArgs('one', 1) },
        { args: { value: 2 }, jobName: 'PlainArgs', priority: BackgroundJobPriority.Low },
        { args: new SendReportArgs('three', 3), delay: 1000 },
      ]);
      expect(new Set(ids).size).toBe(3);
      const rows = await Promise.all(ids.map((id) => store.find(id)));
      expect(rows.map((r) => [r!.jobName, r!.jobArgs, r!.priority])).toEqual([
        ['Reports.Send', '{"reportTitle":"one","recipientCount":1}', 15],
        ['PlainArgs', '{"value":2}', 5],
        ['Reports.Send', '{"reportTitle":"three","recipientCount":3}', 15],
      ]);
      expect(await manager.enqueueMany([])).toEqual([]);
    });

    describe('with a chosen id', () => {
      it('writes one row however often the same job is enqueued under the same id', async () => {
        const count = await store.count();
        const id = 'f3b6c0de-1d2e-4f3a-8b4c-5d6e7f809a1b';
        expect(await manager.enqueue(new SendReportArgs('once', 1), { id })).toBe(id);
        expect(await manager.enqueue(new SendReportArgs('once', 1), { id })).toBe(id);
        expect(
          await manager.enqueueByName(
            'Reports.Send',
            { reportTitle: 'once', recipientCount: 1 },
            { id: id.toUpperCase() },
          ),
        ).toBe(id);
        expect(await store.count()).toBe(count + 1);
        expect((await store.find(id))!.jobArgs).toBe('{"reportTitle":"once","recipientCount":1}');
      });

      it('refuses an id that a row holding another job has, and writes nothing', async () => {
        const id = await manager.enqueue(new SendReportArgs('first', 1), {
          id: '0a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3',
        });
        const count = await store.count();
        await expect(manager.enqueue(new SendReportArgs('second', 1), { id })).rejects.toThrow(JobIdTakenError);
        expect(await store.count()).toBe(count);
        expect((await store.find(id))!.jobArgs).toContain('first');
      });

      it('writes the rest of a batch whose other jobs are there already', async () => {
        const queued = await manager.enqueue(new SendReportArgs('queued', 1), {
          id: '11111111-2222-4333-8444-555555555555',
        });
        const count = await store.count();
        const ids = await manager.enqueueMany([
          { args: new SendReportArgs('queued', 1), id: queued },
          { args: new SendReportArgs('new', 2), id: '66666666-7777-4888-8999-aaaaaaaaaaaa' },
          { args: new SendReportArgs('also new', 3) },
        ]);
        expect(ids[0]).toBe(queued);
        expect(await store.count()).toBe(count + 2);
        expect((await store.find(ids[1]))!.jobArgs).toContain('"new"');
        expect((await store.find(ids[2]))!.jobArgs).toContain('also new');
      });

      /** Runs the job the way a worker does: claims its row, then deletes it as done. */
      async function runJob(id: string): Promise<void> {
        const leaseToken = `lease:${newConcurrencyStamp()}`;
        const now = new Date(Date.now() + 1000);
        const claimed = await store.claim({
          applicationName: 'unit-app',
          jobNames: ['Reports.Send'],
          limit: 100,
          now,
          leaseUntil: new Date(now.getTime() + 60_000),
          leaseToken,
        });
        expect(claimed.map((job) => job.id)).toContain(id);
        await store.complete(
          leaseToken,
          claimed.map((job) => job.id),
        );
        expect(await store.find(id)).toBeUndefined();
      }

      it('writes nothing for a repeat that comes after the job has run and its row is gone', async () => {
        const id = '7b1e2c3d-4f5a-4b6c-8d7e-9f0a1b2c3d4e';
        expect(await manager.enqueue(new SendReportArgs('ran', 1), { id })).toBe(id);
        await runJob(id);
        const count = await store.count();
        expect(await manager.enqueue(new SendReportArgs('ran', 1), { id })).toBe(id);
        expect(await manager.enqueueMany([{ args: new SendReportArgs('ran', 1), id: id.toUpperCase() }])).toEqual([id]);
        expect(await store.count()).toBe(count);
        expect(await store.find(id)).toBeUndefined();
      });

      it('refuses an id whose job has run when the repeat holds another job, and writes nothing', async () => {
        const id = '8c2f3d4e-5a6b-4c7d-9e8f-0a1b2c3d4e5f';
        await manager.enqueue(new SendReportArgs('ran first', 1), { id });
        await runJob(id);
        const count = await store.count();
        await expect(manager.enqueue(new SendReportArgs('ran second', 1), { id })).rejects.toThrow(JobIdTakenError);
        await expect(
          manager.enqueueByName('PlainArgs', { reportTitle: 'ran first', recipientCount: 1 }, { id }),
        ).rejects.toThrow(JobIdTakenError);
        expect(await store.count()).toBe(count);
      });

      it('writes the rest of a batch whose other job has run already, with its key', async () => {
        const ran = await manager.enqueue(new SendReportArgs('ran in batch', 1), {
          id: '9d3a4e5f-6b7c-4d8e-8f9a-1b2c3d4e5f60',
        });
        await runJob(ran);
        const fresh = 'ae4b5f60-7c8d-4e9f-8a0b-2c3d4e5f6071';
        const ids = await manager.enqueueMany([
          { args: new SendReportArgs('ran in batch', 1), id: ran },
          { args: new SendReportArgs('new in batch', 2), id: fresh },
        ]);
        expect(ids).toEqual([ran, fresh]);
        expect(await store.find(ran)).toBeUndefined();
        expect((await store.find(fresh))!.jobArgs).toContain('new in batch');
        expect(await store.findEnqueueKeys([fresh])).toHaveLength(1);
      });

      it('writes no key for jobs without a chosen id', async () => {
        const [id] = await manager.enqueueMany([{ args: new SendReportArgs('no id', 1) }]);
        expect(await store.findEnqueueKeys([id])).toEqual([]);
      });

      it('recognises a waiting job whose row has no key (queued before the keys table, or kept longer than its key)', async () => {
        const id = 'bf5c6071-8d9e-4fa0-9b1c-3d4e5f607182';
        await manager.enqueue(new SendReportArgs('keyless', 1), { id });
        await store.deleteEnqueueKeysBefore(new Date(Date.now() + ENQUEUE_KEY_RETENTION_MS), 1000);
        expect(await store.findEnqueueKeys([id])).toEqual([]);
        const count = await store.count();
        expect(await manager.enqueue(new SendReportArgs('keyless', 1), { id })).toBe(id);
        await expect(manager.enqueue(new SendReportArgs('other', 1), { id })).rejects.toThrow(JobIdTakenError);
        expect(await store.count()).toBe(count);
      });

      it('queues a repeat again once its key is older than the retention and has been deleted', async () => {
        const id = 'c06d7182-9eaf-4b01-8c2d-4e5f60718293';
        await manager.enqueue(new SendReportArgs('expired', 1), { id });
        await runJob(id);
        expect(await deleteExpiredEnqueueKeys(store, new Date(Date.now() + ENQUEUE_KEY_RETENTION_MS - 60_000))).toBe(0);
        expect(await manager.enqueue(new SendReportArgs('expired', 1), { id })).toBe(id);
        expect(await store.find(id)).toBeUndefined();
        expect(
          await deleteExpiredEnqueueKeys(store, new Date(Date.now() + ENQUEUE_KEY_RETENTION_MS + 60_000)),
        ).toBeGreaterThan(0);
        expect(await store.findEnqueueKeys([id])).toEqual([]);
        expect(await manager.enqueue(new SendReportArgs('expired', 1), { id })).toBe(id);
        expect((await store.find(id))!.jobArgs).toContain('expired');
      });

      it('refuses an id that is not a UUID', async () => {
        await expect(manager.enqueue(new SendReportArgs('x', 1), { id: 'not-a-uuid' })).rejects.toThrow(/UUID/);
      });
    });

    it('writes none of a batch when one job in it is bad', async () => {
      const count = await store.count();
      const batch = manager.enqueueMany([{ args: new SendReportArgs('ok', 1) }, { args: {}, jobName: 'NoSuchJob' }]);
      await expect(batch).rejects.toThrow(UndefinedBackgroundJobError);
      expect(await store.count()).toBe(count);
    });
  });
});

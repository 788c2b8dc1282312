import { Injectable } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { createSqliteDatabase, TestDatabase } from '../../../test/support/databases';
import { AsyncBackgroundJob } from './async-background-job';
import { IBackgroundJobManager } from './background-job-manager';
import { BackgroundJobsModule } from './background-jobs.module';
import { parseConnectionString } from './connection/connection-string';
import { BackgroundJob } from './decorators/background-job.decorator';
import { BackgroundJobName } from './decorators/background-job-name.decorator';
import { UndefinedBackgroundJobError } from './errors';
import { InvalidScheduleError } from './schedules/cron-schedule';
import { RecurringJob } from './schedules/recurring-job.decorator';
import { RecurringJobExplorer } from './schedules/recurring-job.explorer';
import { RecurringJobs } from './schedules/recurring-jobs.service';
import { ScheduleDeclaredInCodeError, ScheduleNotFoundError } from './schedules/schedule-errors';
import { BACKGROUND_JOB_STORE, BackgroundJobStore } from './store/background-job-store';
import { uniqueJobId } from './store/derived-ids';
import { JobLifecycle } from './worker/job-lifecycle';
import { WorkerWakeup } from './worker/worker-wakeup';

/**
 * What job authors reach for, through the manager and RecurringJobs over SQLite: unique jobs,
 * enqueue in the caller's transaction, cancel, and schedules (the store contract covers the other
 * databases).
 */
@BackgroundJobName('Orders.Sync')
class SyncArgs {
  constructor(public orderId = 0) {}
}

@Injectable()
@RecurringJob('0 3 * * *', { timeZone: 'Europe/Berlin', args: { orderId: 7 }, name: 'nightly-sync' })
@BackgroundJob(SyncArgs)
class SyncJob extends AsyncBackgroundJob<SyncArgs> {
  async execute(): Promise<void> {}
}

describe('BackgroundJobManager and RecurringJobs: what job authors reach for (SQLite)', () => {
  let database: TestDatabase;
  let app: TestingModule;
  let manager: IBackgroundJobManager;
  let store: BackgroundJobStore;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createSqliteDatabase();
    app = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot(parseConnectionString(database.connectionString).typeorm),
        BackgroundJobsModule.forRoot({ isJobExecutionEnabled: false, worker: { applicationName: 'authors' } }),
      ],
      providers: [SyncJob],
    }).compile();
    await app.init();
    manager = app.get(IBackgroundJobManager);
    store = app.get(BACKGROUND_JOB_STORE);
    dataSource = app.get(getDataSourceToken());
    await dataSource.query('CREATE TABLE "Orders" ("Id" int NOT NULL)');
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  describe('unique jobs', () => {
    it('reports a unique job to lifecycle listeners (the enqueued counter) when it writes a new row, not when it keeps one', async () => {
      const enqueued: string[] = [];
      const stop = app.get(JobLifecycle).listen({
        jobsEnqueued: (batch) => enqueued.push(...batch.jobs.map((job) => job.jobName)),
      });
      try {
        await manager.enqueue(new SyncArgs(1), { uniqueKey: 'counted-once' });
        await manager.enqueue(new SyncArgs(2), { uniqueKey: 'counted-once' });
        await manager.enqueue(new SyncArgs(3));
      } finally {
        stop();
      }
      expect(enqueued).toEqual(['Orders.Sync', 'Orders.Sync']);
    });

    it('returns the id derived from the job name and key, and keeps one row per key', async () => {
      const id = await manager.enqueue(new SyncArgs(1), { uniqueKey: 'order-1' });
      expect(id).toBe(uniqueJobId('authors', 'Orders.Sync', 'order-1'));
      expect(await manager.enqueueByName('Orders.Sync', { orderId: 2 }, { uniqueKey: 'order-1' })).toBe(id);
      expect(await store.find(id)).toMatchObject({
        jobArgs: '{"orderId":1}',
        extraProperties: '{"UniqueKey":"order-1"}',
      });
    });

    it('tells what happened through enqueueUnique, and replaces the args of a waiting job', async () => {
      const job = { args: new SyncArgs(1), uniqueKey: 'order-2' };
      expect((await manager.enqueueUnique(job)).outcome).toBe('enqueued');
      expect((await manager.enqueueUnique({ ...job, args: new SyncArgs(9) })).outcome).toBe('kept');
      const replaced = await manager.enqueueUnique({
        ...job,
        args: new SyncArgs(9),
        onConflict: 'replace',
        delay: 60_000,
      });
      expect(replaced.outcome).toBe('replaced');
      const row = (await store.find(replaced.id))!;
      expect(row.jobArgs).toBe('{"orderId":9}');
      expect(row.nextTryTime.getTime()).toBeGreaterThan(Date.now() + 50_000);
    });

    it('enqueues unique and plain jobs in one enqueueMany, ids in order', async () => {
      const ids = await manager.enqueueMany([
        { args: new SyncArgs(1) },
        { args: new SyncArgs(2), uniqueKey: 'order-3' },
        { args: new SyncArgs(3), uniqueKey: 'order-3' },
      ]);
      expect(ids[1]).toBe(ids[2]);
      expect((await store.find(ids[1]))?.jobArgs).toBe('{"orderId":2}');
      expect(await store.find(ids[0])).toBeDefined();
    });

    it.each([
      [{ uniqueKey: '' }, /unique key is text of 1 to 256/],
      [{ uniqueKey: 'x'.repeat(257) }, /unique key is text of 1 to 256/],
      [{ uniqueKey: 'k', id: '3f2c9a4e-8d1b-4c7e-9a55-0b6e1d2f4a11' }, /an id or a uniqueKey, not both/],
      [{ onConflict: 'keep' as const }, /onConflict applies to an enqueue with a uniqueKey/],
      [{ uniqueKey: 'k', onConflict: 'overwrite' as never }, /onConflict is 'keep' or 'replace'/],
    ])('refuses %j and writes nothing', async (options, message) => {
      const before = await store.count();
      await expect(manager.enqueue(new SyncArgs(1), options)).rejects.toThrow(message);
      expect(await store.count()).toBe(before);
    });
  });

  describe("enqueue in the caller's transaction", () => {
    it('commits the job with the caller’s row, and wakes a worker of this process only at commit', async () => {
      const wakeups: number[] = [];
      app.get(WorkerWakeup).listen(() => wakeups.push(Date.now()));
      let id = '';
      let enqueuedAt = 0;
      await dataSource.transaction(async (entityManager) => {
        await entityManager.query('INSERT INTO "Orders" ("Id") VALUES (1)');
        id = await manager.enqueue(new SyncArgs(1), { entityManager });
        enqueuedAt = Date.now();
        expect(wakeups).toEqual([]);
      });
      expect(wakeups).toHaveLength(1);
      expect(wakeups[0]).toBeGreaterThanOrEqual(enqueuedAt);
      expect(await store.find(id)).toBeDefined();
      app.get(WorkerWakeup).listen(undefined);
    });

    it('rolls the job back with the caller’s row, unique jobs too', async () => {
      const ids: string[] = [];
      await dataSource
        .transaction(async (entityManager) => {
          await entityManager.query('INSERT INTO "Orders" ("Id") VALUES (2)');
          ids.push(await manager.enqueue(new SyncArgs(2), { entityManager }));
          ids.push(await manager.enqueue(new SyncArgs(2), { entityManager, uniqueKey: 'order-tx' }));
          throw new Error('the order was refused');
        })
        .catch(() => undefined);
      for (const id of ids) expect(await store.find(id)).toBeUndefined();
      expect(await dataSource.query('SELECT * FROM "Orders" WHERE "Id" = 2')).toEqual([]);
    });

    it('refuses a chosen id in a transaction, and an EntityManager outside one', async () => {
      await dataSource.transaction(async (entityManager) => {
        await expect(
          manager.enqueue(new SyncArgs(3), { entityManager, id: '3f2c9a4e-8d1b-4c7e-9a55-0b6e1d2f4a11' }),
        ).rejects.toThrow(/takes no chosen id/);
      });
      await expect(manager.enqueue(new SyncArgs(3), { entityManager: dataSource.manager })).rejects.toThrow(
        /needs the EntityManager of a running transaction/,
      );
    });
  });

  describe('cancel', () => {
    it('abandons a waiting job as cancelled by whom it says, and refuses an id that is no UUID', async () => {
      const id = await manager.enqueue(new SyncArgs(4));
      expect(await manager.cancel(id, { by: 'alice' })).toBe('cancelled');
      const row = (await store.find(id))!;
      expect(row.isAbandoned).toBe(true);
      expect(JSON.parse(row.extraProperties)).toMatchObject({ LastError: 'cancelled', CancelledBy: 'alice' });
      expect(await manager.cancel(id)).toBe('finished');
      await expect(manager.cancel('42')).rejects.toThrow(RangeError);
    });
  });

  describe('recurring jobs', () => {
    let recurring: RecurringJobs;
    beforeAll(() => (recurring = app.get(RecurringJobs)));

    it('finds @RecurringJob declarations at start, under their name', () => {
      expect(app.get(RecurringJobExplorer).declarations).toEqual([
        {
          name: 'nightly-sync',
          applicationName: 'authors',
          jobName: 'Orders.Sync',
          jobArgs: '{"orderId":7}',
          cron: '0 3 * * *',
          timeZone: 'Europe/Berlin',
          priority: 15,
          source: 'code',
        },
      ]);
    });

    it('adds, lists with the next run, pauses, resumes, triggers and removes a schedule', async () => {
      expect(
        await recurring.add('hourly-sync', { cron: '0 * * * *', jobName: 'Orders.Sync', args: { orderId: 5 } }),
      ).toBe('created');
      const [view] = (await recurring.list()).filter((s) => s.name === 'hourly-sync');
      expect(view).toMatchObject({ jobName: 'Orders.Sync', args: '{"orderId":5}', paused: false, source: 'runtime' });
      expect(new Date(view.nextRunTime!).getUTCMinutes()).toBe(0);
      expect(new Date(view.nextRunTime!).getTime()).toBeGreaterThan(Date.now());
      await recurring.pause('hourly-sync');
      expect((await recurring.get('hourly-sync'))?.nextRunTime).toBeNull();
      await recurring.resume('hourly-sync');
      const jobId = await recurring.trigger('hourly-sync');
      expect(JSON.parse((await store.find(jobId))!.extraProperties)).toEqual({
        Schedule: 'hourly-sync',
        Trigger: 'manual',
      });
      expect((await recurring.get('hourly-sync'))?.lastJobId).toBe(jobId);
      await recurring.remove('hourly-sync');
      expect(await recurring.get('hourly-sync')).toBeUndefined();
    });

    it('refuses what it cannot run, with the reason', async () => {
      await expect(recurring.add('x', { cron: '0 * * * *', jobName: 'Nope' })).rejects.toThrow(
        UndefinedBackgroundJobError,
      );
      await expect(recurring.add('x', { cron: '0 25 * * *', jobName: 'Orders.Sync' })).rejects.toThrow(
        InvalidScheduleError,
      );
      await expect(
        recurring.add('x', { cron: '0 * * * *', jobName: 'Orders.Sync', timeZone: 'Mars/Olympus' }),
      ).rejects.toThrow(/Unknown time zone/);
      await expect(recurring.add('x', { cron: '0 * * * *', jobName: 'Orders.Sync', args: '[1]' })).rejects.toThrow(
        /args are a JSON object/,
      );
      await expect(recurring.add(' x', { cron: '0 * * * *', jobName: 'Orders.Sync' })).rejects.toThrow(/schedule name/);
      await expect(recurring.pause('no-such-schedule')).rejects.toThrow(ScheduleNotFoundError);
      await expect(recurring.trigger('no-such-schedule')).rejects.toThrow(ScheduleNotFoundError);
    });

    it('refuses to change or remove a schedule declared in code', async () => {
      await store.schedules.insert({
        name: 'coded',
        applicationName: 'authors',
        jobName: 'Orders.Sync',
        jobArgs: '{}',
        cron: '0 3 * * *',
        timeZone: null,
        priority: 15,
        source: 'code',
        isPaused: false,
        definitionStamp: 'stamp',
        creationTime: new Date(),
        lastOccurrenceTime: new Date(),
        lastEnqueueTime: null,
        lastJobId: null,
      });
      await expect(recurring.remove('coded')).rejects.toThrow(ScheduleDeclaredInCodeError);
      await expect(recurring.add('coded', { cron: '0 4 * * *', jobName: 'Orders.Sync' })).rejects.toThrow(
        ScheduleDeclaredInCodeError,
      );
      await recurring.pause('coded');
      expect((await recurring.get('coded'))?.paused).toBe(true);
    });
  });
});

describe('@RecurringJob at start', () => {
  it('stops start-up on two schedules of one name, or a bad cron, naming the class', async () => {
    @Injectable()
    @RecurringJob('0 3 * * *')
    @RecurringJob('0 4 * * *')
    @BackgroundJob(SyncArgs)
    class TwiceJob extends AsyncBackgroundJob<SyncArgs> {
      async execute(): Promise<void> {}
    }
    const compile = (job: new () => unknown) =>
      Test.createTestingModule({
        imports: [BackgroundJobsModule.forRoot({ store: 'memory', isJobExecutionEnabled: false })],
        providers: [job],
      })
        .compile()
        .then((m) => m.init());
    await expect(compile(TwiceJob)).rejects.toThrow(/Two recurring job schedules are named "Orders.Sync"/);

    class OtherArgs {}
    @Injectable()
    @RecurringJob('99 * * * *')
    @BackgroundJob(OtherArgs)
    class BadCronJob extends AsyncBackgroundJob<OtherArgs> {
      async execute(): Promise<void> {}
    }
    await expect(compile(BadCronJob)).rejects.toThrow(/@RecurringJob\('99 \* \* \* \*'\) on BadCronJob: Invalid cron/);
  });

  it('refuses an enqueue in a transaction on the in-memory store', async () => {
    const app = await Test.createTestingModule({
      imports: [BackgroundJobsModule.forRoot({ store: 'memory', isJobExecutionEnabled: false })],
      providers: [SyncJob],
    }).compile();
    await app.init();
    await expect(
      app.get<IBackgroundJobManager>(IBackgroundJobManager).enqueue(new SyncArgs(1), { entityManager: {} as never }),
    ).rejects.toThrow(/in-memory job store cannot enqueue in a transaction/);
    await app.close();
  });
});

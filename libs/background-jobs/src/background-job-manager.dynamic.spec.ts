import { Injectable } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { AsyncBackgroundJob, BackgroundJobContext } from './async-background-job';
import { IBackgroundJobManager, IDynamicBackgroundJobManager } from './background-job-manager';
import { BackgroundJobsModule } from './background-jobs.module';
import { BackgroundJob } from './decorators/background-job.decorator';
import { DuplicateBackgroundJobError, UndefinedBackgroundJobError } from './errors';
import { BACKGROUND_JOB_STORE } from './store/background-job-store';
import { MemoryBackgroundJobStore } from './store/memory/memory-background-job-store';
import type { BackgroundJobWorkerOptions } from './background-jobs.options';
import { waitFor } from '../../../test/support/wait-for';

class TypedArgs {}

@Injectable()
@BackgroundJob(TypedArgs)
class TypedJob extends AsyncBackgroundJob<TypedArgs> {
  async execute(): Promise<void> {}
}

async function appWith(worker: Partial<BackgroundJobWorkerOptions> = {}): Promise<TestingModule> {
  const app = await Test.createTestingModule({
    imports: [BackgroundJobsModule.forRoot({ store: 'memory', worker })],
    providers: [TypedJob],
  }).compile();
  await app.init();
  return app;
}

/** Resolves with what the handler got, the first time it runs. */
function recordingHandler<T>() {
  let got!: (value: { args: T; context: BackgroundJobContext }) => void;
  const ran = new Promise<{ args: T; context: BackgroundJobContext }>((resolve) => (got = resolve));
  return { ran, handler: (args: T, context: BackgroundJobContext) => got({ args, context }) };
}

describe("ABP 10.3's dynamic handlers (registerHandler, unregisterHandler, isHandlerRegistered)", () => {
  let app: TestingModule | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('runs a job with no class by its registered handler; the row keeps its name and its args as given', async () => {
    app = await appWith({ storeSuccessfulJobs: true });
    const jobs = app.get<IDynamicBackgroundJobManager>(IDynamicBackgroundJobManager);
    expect(app.get(IBackgroundJobManager)).toBe(jobs);
    let finish!: () => void;
    const written = new Promise<void>((resolve) => (finish = resolve));
    jobs.registerHandler<{ orderId: string }>('ProcessOrder', (args, context) => {
      setImmediate(finish);
      return { processed: args.orderId, try: context.tryCount };
    });
    expect(jobs.isHandlerRegistered('ProcessOrder')).toBe(true);
    expect(jobs.isHandlerRegistered('TypedArgs')).toBe(false); // a job class, not a dynamic handler

    const id = await jobs.enqueueByName('ProcessOrder', { orderId: 'abc-123' });
    await written;
    const store = app.get<MemoryBackgroundJobStore>(BACKGROUND_JOB_STORE);
    await app.close();
    app = undefined;
    expect(await store.find(id)).toMatchObject({
      jobName: 'ProcessOrder',
      jobArgs: '{"orderId":"abc-123"}',
      extraProperties: '{"Result":{"processed":"abc-123","try":1}}',
    });
    expect((await store.find(id))?.completionTime).not.toBeNull();
  });

  it('picks up a handler registered after the worker started, for rows enqueued before it', async () => {
    app = await appWith();
    const store = app.get<MemoryBackgroundJobStore>(BACKGROUND_JOB_STORE);
    const jobs = app.get<IDynamicBackgroundJobManager>(IDynamicBackgroundJobManager);
    // Enqueued by another process, which knows the handler; this one does not yet.
    await store.enqueue({
      applicationName: null,
      creationTime: new Date(),
      jobs: [
        {
          id: '0190a0b0-0000-7000-8000-000000000042',
          jobName: 'Late',
          jobArgs: '{"n":42}',
          priority: 15,
          nextTryTime: new Date(),
          concurrencyStamp: 'c'.repeat(32),
        },
      ],
    });
    const { ran, handler } = recordingHandler<{ n: number }>();
    jobs.registerHandler('Late', handler);
    const { args, context } = await ran;
    expect(args).toEqual({ n: 42 });
    expect(context).toMatchObject({ jobId: '0190a0b0-0000-7000-8000-000000000042', jobName: 'Late', tryCount: 1 });
  });

  it("lists a handler registered after the worker started in the worker's heartbeat (the dashboard's live job names)", async () => {
    app = await appWith();
    const store = app.get<MemoryBackgroundJobStore>(BACKGROUND_JOB_STORE);
    const names = async () => (await store.heartbeats.live(new Date(0)))[0]?.jobNames ?? [];
    await waitFor('the first beat', async () => (await names()).includes('TypedArgs'));
    app.get<IDynamicBackgroundJobManager>(IDynamicBackgroundJobManager).registerHandler('Late', () => undefined);
    // The next beat, WORKER_HEARTBEAT_PERIOD_MS on.
    await waitFor('a beat with the new name', async () => (await names()).includes('Late'), 8000);
    expect((await names()).sort()).toEqual(['Late', 'TypedArgs']);
  }, 15_000);

  it('replaces a handler registered again; unregisterHandler removes it and enqueueing the name is refused again', async () => {
    app = await appWith({ isJobExecutionEnabled: false } as never);
    const jobs = app.get<IDynamicBackgroundJobManager>(IDynamicBackgroundJobManager);
    jobs.registerHandler('Report', () => 1);
    jobs.registerHandler('Report', () => 2);
    expect(jobs.isHandlerRegistered('Report')).toBe(true);
    expect(jobs.unregisterHandler('Report')).toBe(true);
    expect(jobs.unregisterHandler('Report')).toBe(false);
    expect(jobs.unregisterHandler('TypedArgs')).toBe(false); // a job class stays
    expect(jobs.isHandlerRegistered('Report')).toBe(false);
    await expect(jobs.enqueueByName('Report', {})).rejects.toThrow(UndefinedBackgroundJobError);
  });

  it('refuses a handler for a name a job class has, a bad name, and a handler that is not a function', async () => {
    app = await appWith();
    const jobs = app.get<IDynamicBackgroundJobManager>(IDynamicBackgroundJobManager);
    expect(() => jobs.registerHandler('TypedArgs', () => undefined)).toThrow(DuplicateBackgroundJobError);
    expect(() => jobs.registerHandler('TypedArgs', () => undefined)).toThrow(
      'Two background jobs are registered for the job name "TypedArgs": TypedJob and a dynamic handler',
    );
    expect(() => jobs.registerHandler('', () => undefined)).toThrow(/1 to 128 characters long/);
    expect(() => jobs.registerHandler('X', 'no' as never)).toThrow('is not a function');
    expect(() => jobs.registerHandler('X', () => undefined, { retry: { backoff: 'fixed' } })).toThrow(
      `The dynamic background job "X" has a retry policy whose backoff 'fixed' needs delayMs`,
    );
  });

  it('a row claimed before its handler was unregistered here fails its try (retried later) instead of being abandoned', async () => {
    app = await appWith();
    const jobs = app.get<IDynamicBackgroundJobManager>(IDynamicBackgroundJobManager);
    const store = app.get<MemoryBackgroundJobStore>(BACKGROUND_JOB_STORE);
    const row = (id: string, priority: number) => ({
      id,
      jobName: 'Gone',
      jobArgs: '{}',
      priority,
      nextTryTime: new Date(),
      concurrencyStamp: 'c'.repeat(32),
    });
    const [first, second] = ['0190a0b0-0000-7000-8000-000000000001', '0190a0b0-0000-7000-8000-000000000002'];
    await store.enqueue({ applicationName: null, creationTime: new Date(), jobs: [row(first, 25), row(second, 5)] });
    // The first claim takes both rows; the first runs until released, the second waits in the local queue.
    let release!: () => void;
    const blocker = new Promise<void>((resolve) => (release = resolve));
    const { ran, handler } = recordingHandler();
    jobs.registerHandler('Gone', (args, context) => {
      handler(args, context);
      return blocker;
    });
    await ran;
    expect(jobs.unregisterHandler('Gone')).toBe(true);
    release();
    await app.close();
    app = undefined;
    expect(await store.find(first)).toBeUndefined(); // it ran and succeeded
    const failed = await store.find(second);
    expect(failed).toMatchObject({ tryCount: 1, isAbandoned: false });
    expect(failed?.nextTryTime.getTime()).toBeGreaterThan(Date.now() + 30_000); // ABP's first wait, 60 s
    expect(failed?.extraProperties).toMatch(/No job is registered for the job name \\"Gone\\"/);
  });
});

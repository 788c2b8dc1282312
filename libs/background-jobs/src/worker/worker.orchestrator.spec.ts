import { Injectable } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { AsyncBackgroundJob } from '../async-background-job';
import { IBackgroundJobManager } from '../background-job-manager';
import { BackgroundJobsModule } from '../background-jobs.module';
import type { BackgroundJobWorkerOptions } from '../background-jobs.options';
import { BackgroundJob } from '../decorators/background-job.decorator';
import { BACKGROUND_JOB_STORE } from '../store/background-job-store';
import { MemoryBackgroundJobStore } from '../store/memory/memory-background-job-store';
import { addDedicatedWorker } from './dedicated-workers';

class SlowArgs {}
class FastArgs {}

/** Runs until the test releases it. */
@Injectable()
@BackgroundJob(SlowArgs)
class SlowJob extends AsyncBackgroundJob<SlowArgs> {
  started = false;
  private release!: () => void;
  private readonly released = new Promise<void>((resolve) => (this.release = resolve));

  async execute(): Promise<void> {
    this.started = true;
    await this.released;
  }

  finish(): void {
    this.release();
  }
}

@Injectable()
@BackgroundJob(FastArgs)
class FastJob extends AsyncBackgroundJob<FastArgs> {
  private done!: () => void;
  readonly ran = new Promise<void>((resolve) => (this.done = resolve));

  async execute(): Promise<void> {
    this.done();
  }
}

async function appWith(worker: Partial<BackgroundJobWorkerOptions>, store?: MemoryBackgroundJobStore) {
  let builder = Test.createTestingModule({
    imports: [BackgroundJobsModule.forRoot({ store: 'memory', worker })],
    providers: [SlowJob, FastJob],
  });
  if (store) builder = builder.overrideProvider(BACKGROUND_JOB_STORE).useValue(store);
  const app = await builder.compile();
  await app.init();
  return app;
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 50));

describe('WorkerOrchestrator: the workers of one process', () => {
  let app: TestingModule | undefined;
  afterEach(async () => {
    app?.get(SlowJob).finish();
    await app?.close();
    app = undefined;
  });

  it('runs a dedicated worker beside the default one: a slow job type no longer holds up the others', async () => {
    app = await appWith(addDedicatedWorker({ maxParallelJobExecutionCount: 1 }, 'SlowWorker', SlowArgs));
    const jobs = app.get<IBackgroundJobManager>(IBackgroundJobManager);
    await jobs.enqueue(new SlowArgs());
    await tick();
    expect(app.get(SlowJob).started).toBe(true);
    // With one worker and one slot, this would wait for the slow job.
    await jobs.enqueue(new FastArgs());
    await app.get(FastJob).ran;
  });

  it('runs none of the ExcludeJobNames', async () => {
    app = await appWith({ excludeJobNames: ['FastArgs'], jobPollPeriod: 20 });
    const jobs = app.get<IBackgroundJobManager>(IBackgroundJobManager);
    const fast = await jobs.enqueue(new FastArgs());
    await jobs.enqueue(new SlowArgs());
    await tick();
    expect(app.get(SlowJob).started).toBe(true);
    expect(await app.get<MemoryBackgroundJobStore>(BACKGROUND_JOB_STORE).find(fast)).toMatchObject({
      tryCount: 0,
      lastTryTime: null,
    });
  });

  it('does not start with StoreSuccessfulJobs on a table without CompletionTime, and says why', async () => {
    class OldTableStore extends MemoryBackgroundJobStore {
      async hasCompletionTimeColumn(): Promise<boolean> {
        return false;
      }
    }
    await expect(appWith({ storeSuccessfulJobs: true }, new OldTableStore())).rejects.toThrow(
      /^StoreSuccessfulJobs is unavailable: the AbpBackgroundJobs table has no CompletionTime column .* ABP's own 10\.6 migration adds it .* AbpBackgroundJobWorker__StoreSuccessfulJobs=false/,
    );
    // Without StoreSuccessfulJobs the same table is not asked about.
    app = await appWith({}, new OldTableStore());
  });
});

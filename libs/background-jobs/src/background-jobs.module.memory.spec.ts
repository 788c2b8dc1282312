import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AsyncBackgroundJob } from './async-background-job';
import { IBackgroundJobManager } from './background-job-manager';
import { BackgroundJobsModule } from './background-jobs.module';
import { BackgroundJob } from './decorators/background-job.decorator';
import { BACKGROUND_JOB_STORE } from './store/background-job-store';
import { MemoryBackgroundJobStore } from './store/memory/memory-background-job-store';

class GreetArgs {
  name = '';
}

@Injectable()
@BackgroundJob(GreetArgs, { timeoutMs: 5000 })
class GreetJob extends AsyncBackgroundJob<GreetArgs> {
  readonly greeted: string[] = [];
  private onRun?: () => void;
  readonly ran = new Promise<void>((resolve) => (this.onRun = resolve));

  async execute(args: GreetArgs): Promise<void> {
    this.greeted.push(args.name);
    this.onRun?.();
  }
}

/** What a user's own tests do: the module on the in-memory store, no database and no TypeORM. */
describe("BackgroundJobsModule.forRoot({ store: 'memory' })", () => {
  it('keeps enqueued jobs in memory for the test to inspect', async () => {
    const app = await Test.createTestingModule({
      imports: [BackgroundJobsModule.forRoot({ store: 'memory', isJobExecutionEnabled: false })],
      providers: [GreetJob],
    }).compile();
    await app.init();
    const id = await app
      .get<IBackgroundJobManager>(IBackgroundJobManager)
      .enqueue(Object.assign(new GreetArgs(), { name: 'Ada' }));
    const store = app.get<MemoryBackgroundJobStore>(BACKGROUND_JOB_STORE);
    expect(store).toBeInstanceOf(MemoryBackgroundJobStore);
    expect(await store.list()).toEqual([
      expect.objectContaining({ id, jobName: 'GreetArgs', jobArgs: '{"name":"Ada"}', tryCount: 0 }),
    ]);
    await app.close();
  });

  it('runs enqueued jobs with the worker and deletes their rows', async () => {
    const app = await Test.createTestingModule({
      imports: [BackgroundJobsModule.forRoot({ store: 'memory' })],
      providers: [GreetJob],
    }).compile();
    await app.init();
    await app
      .get<IBackgroundJobManager>(IBackgroundJobManager)
      .enqueue(Object.assign(new GreetArgs(), { name: 'Grace' }));
    const job = app.get(GreetJob);
    await job.ran;
    const store = app.get<MemoryBackgroundJobStore>(BACKGROUND_JOB_STORE);
    await app.close(); // stopping the worker writes its last results
    expect(job.greeted).toEqual(['Grace']);
    expect(await store.count()).toBe(0);
  });
});

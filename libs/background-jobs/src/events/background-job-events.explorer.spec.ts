import { Injectable, Scope } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AsyncBackgroundJob } from '../async-background-job';
import { IBackgroundJobManager } from '../background-job-manager';
import { BackgroundJobsModule } from '../background-jobs.module';
import { BackgroundJob } from '../decorators/background-job.decorator';
import { AbandonJobError } from '../errors';
import { BACKGROUND_JOB_STORE } from '../store/background-job-store';
import { MemoryBackgroundJobStore } from '../store/memory/memory-background-job-store';
import type { BackgroundJobEvent } from './background-job-event';
import { OnBackgroundJobEvent } from './on-background-job-event.decorator';

class ReportArgs {
  fail?: 'retry' | 'abandon';
}

@Injectable()
@BackgroundJob(ReportArgs)
class ReportJob extends AsyncBackgroundJob<ReportArgs> {
  async execute(args: ReportArgs): Promise<unknown> {
    if (args.fail === 'retry') throw new Error('try again later');
    if (args.fail === 'abandon') throw new AbandonJobError('never works');
    return { pages: 2 };
  }
}

/** An ordinary provider of the app with handlers, one of which throws. */
@Injectable()
class JobAudit {
  readonly seen: BackgroundJobEvent[] = [];
  readonly done: Promise<void>;
  private expected = 0;
  private resolve!: () => void;

  constructor() {
    this.done = new Promise((resolve) => (this.resolve = resolve));
  }

  expect(count: number): void {
    this.expected = count;
  }

  @OnBackgroundJobEvent('succeeded')
  @OnBackgroundJobEvent('abandoned')
  onEnd(event: BackgroundJobEvent): void {
    this.record(event);
  }

  @OnBackgroundJobEvent('failed')
  @OnBackgroundJobEvent('retrying')
  onFailure(event: BackgroundJobEvent): void {
    this.record(event);
  }

  @OnBackgroundJobEvent('succeeded')
  broken(): void {
    throw new Error('audit handler bug');
  }

  private record(event: BackgroundJobEvent): void {
    this.seen.push(event);
    if (this.seen.length === this.expected) this.resolve();
  }
}

async function appWith(...providers: Array<new (...args: never[]) => unknown>) {
  const app = await Test.createTestingModule({
    imports: [BackgroundJobsModule.forRoot({ store: 'memory' })],
    providers: [ReportJob, ...providers],
  }).compile();
  await app.init();
  return app;
}

describe('@OnBackgroundJobEvent on the providers of a worker process', () => {
  it('calls the handlers with each run’s end; one that throws changes no outcome', async () => {
    const app = await appWith(JobAudit);
    const audit = app.get(JobAudit);
    audit.expect(5);
    const jobs = app.get<IBackgroundJobManager>(IBackgroundJobManager);
    const ok = await jobs.enqueue(new ReportArgs());
    const retry = await jobs.enqueue(Object.assign(new ReportArgs(), { fail: 'retry' }));
    const abandon = await jobs.enqueue(Object.assign(new ReportArgs(), { fail: 'abandon' }));
    await audit.done;
    const store = app.get<MemoryBackgroundJobStore>(BACKGROUND_JOB_STORE);
    await app.close();

    const byJob = (id: string) => audit.seen.filter((e) => e.jobId === id).map((e) => e.event);
    expect(byJob(ok)).toEqual(['succeeded']);
    expect(byJob(retry)).toEqual(['failed', 'retrying']);
    expect(byJob(abandon)).toEqual(['failed', 'abandoned']);
    const succeeded = audit.seen.find((e) => e.jobId === ok)!;
    expect(succeeded).toMatchObject({ jobName: 'ReportArgs', tryCount: 1, result: { pages: 2 } });
    expect(succeeded.args).toEqual({});
    expect(succeeded.durationMs).toBeGreaterThanOrEqual(0);
    expect(audit.seen.find((e) => e.jobId === retry && e.event === 'retrying')?.nextTryTime).toBeInstanceOf(Date);
    expect(String(audit.seen.find((e) => e.jobId === abandon)?.error)).toBe('AbandonJobError: never works');

    // The throwing handler ran and failed: the succeeded job's row is still deleted.
    expect(await store.find(ok)).toBeUndefined();
    expect(await store.find(retry)).toMatchObject({ isAbandoned: false, tryCount: 1 });
    expect(await store.find(abandon)).toMatchObject({ isAbandoned: true, tryCount: 1 });
  });

  it('finds handlers on a provider made by a factory too', async () => {
    class Counter {
      count = 0;
      readonly counted: Promise<void>;
      private done!: () => void;
      constructor() {
        this.counted = new Promise((resolve) => (this.done = resolve));
      }

      @OnBackgroundJobEvent('succeeded')
      onSucceeded(): void {
        this.count++;
        this.done();
      }
    }
    const counter = new Counter();
    const app = await Test.createTestingModule({
      imports: [BackgroundJobsModule.forRoot({ store: 'memory' })],
      providers: [ReportJob, { provide: 'COUNTER', useFactory: () => counter }],
    }).compile();
    await app.init();
    await app.get<IBackgroundJobManager>(IBackgroundJobManager).enqueue(new ReportArgs());
    await counter.counted;
    await app.close();
    expect(counter.count).toBe(1);
  });

  it('refuses, at start, a handler on a request-scoped provider', async () => {
    @Injectable({ scope: Scope.REQUEST })
    class PerRequest {
      @OnBackgroundJobEvent('failed')
      onFailed(): void {}
    }
    await expect(appWith(PerRequest)).rejects.toThrow(
      '@OnBackgroundJobEvent is on PerRequest.onFailed, whose provider is request-scoped or transient',
    );
  });

  it('refuses an unknown event name where it is written', () => {
    expect(() => OnBackgroundJobEvent('completed' as never)).toThrow(
      '@OnBackgroundJobEvent takes one of succeeded, failed, retrying, abandoned, got "completed"',
    );
  });
});

import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable, Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AsyncBackgroundJob } from '../async-background-job';
import { IBackgroundJobManager } from '../background-job-manager';
import { BackgroundJobsModule } from '../background-jobs.module';
import { BackgroundJob } from '../decorators/background-job.decorator';
import type { ClaimedJob } from '../store/background-job-record';
import type { EnqueueBatch } from '../store/background-job-store';
import { EnqueueSend, JobEnded, JobLifecycle } from './job-lifecycle';

const job = { id: 'a0000000-0000-4000-8000-000000000001', jobName: 'Probe' } as ClaimedJob;

describe('JobLifecycle', () => {
  beforeAll(() => jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined));
  afterAll(() => jest.restoreAllMocks());

  it('runs a job inside every aroundJob, the first listener outermost, and returns the run’s result', () => {
    const lifecycle = new JobLifecycle();
    const order: string[] = [];
    const around =
      (name: string) =>
      <T>(_job: ClaimedJob, run: () => T): T => {
        order.push(`${name} in`);
        const result = run();
        order.push(`${name} out`);
        return result;
      };
    lifecycle.listen({ aroundJob: around('outer') });
    lifecycle.listen({ aroundJob: around('inner') });
    expect(lifecycle.runJob(job, () => (order.push('run'), 42))).toBe(42);
    expect(order).toEqual(['outer in', 'inner in', 'run', 'inner out', 'outer out']);
  });

  it('still runs the job, once, when a listener throws before or after calling run; the run’s own error passes through', () => {
    const lifecycle = new JobLifecycle();
    const remove = lifecycle.listen({
      aroundJob: () => {
        throw new Error('before');
      },
    });
    let runs = 0;
    expect(lifecycle.runJob(job, () => ++runs)).toBe(1);
    remove();
    lifecycle.listen({
      aroundJob: <T>(_job: ClaimedJob, run: () => T): T => {
        run();
        throw new Error('after');
      },
    });
    expect(lifecycle.runJob(job, () => ++runs)).toBe(2);
    expect(() =>
      lifecycle.runJob(job, () => {
        throw new Error('the job');
      }),
    ).toThrow('the job');
  });

  it('merges the extra properties each aroundEnqueue gives into what send receives', async () => {
    const lifecycle = new JobLifecycle();
    lifecycle.listen({ aroundEnqueue: <T>(_jobs: unknown, send: EnqueueSend<T>) => send({ a: '1' }) });
    lifecycle.listen({ aroundEnqueue: <T>(_jobs: unknown, send: EnqueueSend<T>) => send({ b: '2' }) });
    const sent: unknown[] = [];
    await expect(lifecycle.enqueue([job], async (extra) => (sent.push(extra), 'ids'))).resolves.toBe('ids');
    expect(sent).toEqual([{ a: '1', b: '2' }]);
  });

  it('sends no extra properties without listeners, and a write error reaches the caller through them', async () => {
    const lifecycle = new JobLifecycle();
    const extra: unknown[] = [];
    await lifecycle.enqueue([job], async (e) => void extra.push(e));
    expect(extra).toEqual([undefined]);
    lifecycle.listen({ aroundEnqueue: <T>(_jobs: unknown, send: EnqueueSend<T>) => send() });
    await expect(lifecycle.enqueue([job], () => Promise.reject(new Error('write failed')))).rejects.toThrow(
      'write failed',
    );
  });

  it('tells every listener of starts, ends and enqueues, though one of them throws', () => {
    const lifecycle = new JobLifecycle();
    const seen: string[] = [];
    lifecycle.listen({
      jobStarted: () => {
        throw new Error('broken listener');
      },
      jobEnded: () => {
        throw new Error('broken listener');
      },
    });
    lifecycle.listen({
      jobStarted: (j) => seen.push(`started ${j.jobName}`),
      jobEnded: (e) => seen.push(`ended ${e.outcome}`),
      jobsEnqueued: (b) => seen.push(`enqueued ${b.jobs.length}`),
    });
    lifecycle.jobStarted(job);
    lifecycle.jobEnded({ job, outcome: 'succeeded', durationMs: 1 });
    lifecycle.jobsEnqueued({ applicationName: null, creationTime: new Date(), jobs: [] });
    expect(seen).toEqual(['started Probe', 'ended succeeded', 'enqueued 0']);
  });
});

class EchoArgs {
  text = '';
}

const jobContext = new AsyncLocalStorage<string>();

@Injectable()
@BackgroundJob(EchoArgs)
class EchoJob extends AsyncBackgroundJob<EchoArgs> {
  readonly contexts: Array<string | undefined> = [];
  private onRun?: () => void;
  readonly ran = new Promise<void>((resolve) => (this.onRun = resolve));

  async execute(): Promise<void> {
    await Promise.resolve();
    this.contexts.push(jobContext.getStore());
    this.onRun?.();
  }
}

describe('JobLifecycle in BackgroundJobsModule', () => {
  it('stores the extra properties of aroundEnqueue on the rows, reports the write, and runs the job inside aroundJob', async () => {
    const app = await Test.createTestingModule({
      imports: [BackgroundJobsModule.forRoot({ store: 'memory', worker: { jobPollPeriod: 50 } })],
      providers: [EchoJob],
    }).compile();
    const lifecycle = app.get(JobLifecycle);
    const enqueued: EnqueueBatch[] = [];
    const ended: JobEnded[] = [];
    let extraPropertiesSeenByJob: string | undefined;
    lifecycle.listen({
      aroundEnqueue: <T>(_jobs: unknown, send: EnqueueSend<T>) => send({ traceparent: 'tp' }),
      jobsEnqueued: (batch) => enqueued.push(batch),
      aroundJob: <T>(claimed: ClaimedJob, run: () => T): T => {
        extraPropertiesSeenByJob = claimed.extraProperties;
        return jobContext.run(`job ${claimed.id}`, run);
      },
      jobEnded: (e) => ended.push(e),
    });
    await app.init();
    const id = await app.get<IBackgroundJobManager>(IBackgroundJobManager).enqueue(new EchoArgs());
    const echo = app.get(EchoJob);
    await echo.ran;
    await app.close();

    expect(enqueued.map((b) => b.jobs.map((j) => j.id))).toEqual([[id]]);
    expect(extraPropertiesSeenByJob).toBe('{"traceparent":"tp"}');
    expect(echo.contexts).toEqual([`job ${id}`]);
    expect(ended.map((e) => e.outcome)).toEqual(['succeeded']);
  });
});

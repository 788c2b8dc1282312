import { AsyncLocalStorage } from 'node:async_hooks';
import { AsyncBackgroundJob, BackgroundJobContext } from '../async-background-job';
import { BackgroundJobRegistry } from '../background-job.registry';
import { ClaimedJob } from '../store/background-job-record';
import { JobAbort } from './job-abort';
import { SWEPT_TIMEOUT_MS } from './job-deadlines';
import { JobOutcome, JobRunner, JobTimeoutError, WorkerShutdownError } from './job-runner';

class ProbeArgs {
  value = 0;
  doubled(): number {
    return this.value * 2;
  }
}

type Body = (args: ProbeArgs, context: BackgroundJobContext) => unknown;

class ProbeJob extends AsyncBackgroundJob<ProbeArgs> {
  constructor(private readonly body: Body) {
    super();
  }
  execute(args: ProbeArgs, context: BackgroundJobContext): Promise<void> {
    return this.body(args, context) as Promise<void>;
  }
}

const job = (jobArgs = '{"value":21}', jobName = 'Probe'): ClaimedJob => ({
  id: 'a0000000-0000-4000-8000-000000000001',
  applicationName: null,
  jobName,
  jobArgs,
  tryCount: 1,
  creationTime: new Date(),
  nextTryTime: new Date(),
  lastTryTime: new Date(),
  isAbandoned: false,
  priority: 15,
  completionTime: null,
  extraProperties: '{}',
  concurrencyStamp: 'lease:x',
  leaseToken: 'lease:x',
  previousLeaseExpired: false,
  dueTime: new Date(),
});

function runnerFor(
  body: Body,
  options: { timeoutMs?: number; singleton?: boolean; defaultTimeoutMs?: number } = {},
): JobRunner {
  const registry = new BackgroundJobRegistry();
  const instance = new ProbeJob(body);
  registry.register({
    jobName: 'Probe',
    argsType: ProbeArgs,
    jobTypeName: 'ProbeJob',
    timeoutMs: options.timeoutMs,
    resolve: async () => instance,
    instance: options.singleton === false ? undefined : instance,
  });
  return new JobRunner(registry, options.defaultTimeoutMs ?? 3_600_000);
}

describe('JobRunner', () => {
  it('runs the job with args of its args class and its context, singleton or resolved', async () => {
    for (const singleton of [true, false]) {
      const seen: Array<[number, string, number]> = [];
      const runner = runnerFor(
        async (args, context) => void seen.push([args.doubled(), context.jobName, context.tryCount]),
        { singleton },
      );
      expect(await runner.run(job(), new JobAbort())).toEqual({ kind: 'succeeded' });
      expect(seen).toEqual([[42, 'Probe', 1]]);
    }
  });

  it('fails with what the job threw, whether it rejects or throws before returning a promise', async () => {
    const boom = new Error('boom');
    expect(await runnerFor(async () => Promise.reject(boom)).run(job(), new JobAbort())).toEqual({
      kind: 'failed',
      error: boom,
    });
    expect(
      await runnerFor(() => {
        throw boom;
      }).run(job(), new JobAbort()),
    ).toEqual({ kind: 'failed', error: boom });
  });

  it("runs only the job's own call inside `around`: the outcome arrives outside it, and never before start returns", async () => {
    const context = new AsyncLocalStorage<string>();
    const around = <T>(call: () => T): T => context.run('job', call);
    for (const body of [
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        expect(context.getStore()).toBe('job'); // the job's own awaits stay in its context
      },
      () => undefined, // a plain execute
      () => {
        throw new Error('sync throw');
      },
    ] satisfies Body[]) {
      const seen: Array<string | undefined> = [];
      let returned = false;
      const outcome = await new Promise<JobOutcome>((resolve) => {
        runnerFor(body).start(
          job(),
          new JobAbort(),
          (o) => {
            seen.push(context.getStore(), returned ? 'after start returned' : 'inside start');
            resolve(o);
          },
          around,
        );
        returned = true;
      });
      expect(outcome.kind).not.toBe('broken');
      expect(seen).toEqual([undefined, 'after start returned']);
    }
  });

  it('fails the try, and frees its slot, when the job returns a thenable whose then() throws', async () => {
    const broken = {
      then: () => {
        throw new Error('bad thenable');
      },
    };
    const outcome = await runnerFor(() => broken).run(job(), new JobAbort());
    expect(outcome).toMatchObject({ kind: 'failed', error: { message: 'bad thenable' } });
  });

  it('accepts an execute that is not async', async () => {
    expect(await runnerFor(() => undefined).run(job(), new JobAbort())).toEqual({ kind: 'succeeded' });
  });

  it('calls rows it can never run broken: unreadable args, args that are not an object, an unknown name', async () => {
    const runner = runnerFor(async () => undefined);
    expect((await runner.run(job('{not json'), new JobAbort())).kind).toBe('broken');
    expect((await runner.run(job('[1,2]'), new JobAbort())).kind).toBe('broken');
    const unknown = await runner.run(job('{}', 'Nobody'), new JobAbort());
    expect(unknown).toMatchObject({
      kind: 'broken',
      error: expect.objectContaining({ message: 'No job is registered for the job name "Nobody"' }) as unknown,
    });
  });

  it('aborts a job past its own timeout through its signal, and fails the try', async () => {
    jest.useFakeTimers();
    try {
      let aborted: unknown;
      const runner = runnerFor(
        (_args, context) =>
          new Promise((_resolve, reject) => {
            context.signal.addEventListener('abort', () => reject((aborted = context.signal.reason as Error)));
          }),
        { timeoutMs: 50 },
      );
      let outcome: JobOutcome | undefined;
      void runner.run(job(), new JobAbort()).then((o) => (outcome = o));
      await jest.advanceTimersByTimeAsync(49);
      expect(outcome).toBeUndefined();
      await jest.advanceTimersByTimeAsync(1);
      expect(outcome).toEqual({ kind: 'failed', error: aborted });
      expect(aborted).toBeInstanceOf(JobTimeoutError);
    } finally {
      jest.useRealTimers();
    }
  });

  it('frees the slot at the timeout even when the job ignores its signal', async () => {
    jest.useFakeTimers();
    try {
      const runner = runnerFor(() => new Promise(() => undefined), { timeoutMs: 50 });
      let outcome: JobOutcome | undefined;
      void runner.run(job(), new JobAbort()).then((o) => (outcome = o));
      await jest.advanceTimersByTimeAsync(50);
      expect(outcome).toMatchObject({ kind: 'failed', error: expect.any(JobTimeoutError) as unknown });
    } finally {
      jest.useRealTimers();
    }
  });

  it('reports a shutdown abort as interrupted, even if the job then returns normally', async () => {
    const abort = new JobAbort();
    let listening!: () => void;
    const started = new Promise<void>((resolve) => (listening = resolve));
    const run = runnerFor(async (_args, context) => {
      const aborted = new Promise((resolve) => context.signal.addEventListener('abort', resolve));
      listening();
      await aborted;
    }).run(job(), abort);
    await started;
    abort.abort(new WorkerShutdownError());
    expect(await run).toMatchObject({ kind: 'interrupted', error: expect.any(WorkerShutdownError) as unknown });
  });

  it('checks long timeouts with a sweep, not a timer per job, and still aborts them', async () => {
    jest.useFakeTimers();
    try {
      const runner = runnerFor(() => new Promise(() => undefined), { timeoutMs: SWEPT_TIMEOUT_MS });
      let outcome: JobOutcome | undefined;
      void runner.run(job(), new JobAbort()).then((o) => (outcome = o));
      expect(jest.getTimerCount()).toBe(1); // the sweep
      const second = runner.run(job(), new JobAbort());
      expect(jest.getTimerCount()).toBe(1); // shared
      await jest.advanceTimersByTimeAsync(SWEPT_TIMEOUT_MS - 1000);
      expect(outcome).toBeUndefined();
      await jest.advanceTimersByTimeAsync(1000);
      expect(outcome).toMatchObject({ kind: 'failed', error: expect.any(JobTimeoutError) as unknown });
      expect(await second).toMatchObject({ kind: 'failed' });
      expect(jest.getTimerCount()).toBe(0); // nothing left to sweep: the interval stops
    } finally {
      jest.useRealTimers();
    }
  });

  it('leaves no timer behind once a job finishes', async () => {
    jest.useFakeTimers();
    try {
      await runnerFor(async () => undefined, { timeoutMs: 50 }).run(job(), new JobAbort());
      await runnerFor(async () => undefined, { timeoutMs: SWEPT_TIMEOUT_MS }).run(job(), new JobAbort());
      await jest.advanceTimersByTimeAsync(1000);
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });
});

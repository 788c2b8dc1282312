import type { ClaimedJob } from '../store/background-job-record';
import type { JobEnded } from '../worker/job-lifecycle';
import type { BackgroundJobEvent, BackgroundJobEventHandler } from './background-job-event';
import { JobEventDispatcher } from './job-event-dispatcher';
import type { BackgroundJobEventName } from './on-background-job-event.decorator';

const T0 = new Date('2030-01-01T00:00:00.000Z');

function job(jobArgs = '{"n":1}'): ClaimedJob {
  return {
    id: '0190a0b0-0000-7000-8000-000000000001',
    applicationName: null,
    jobName: 'Probe',
    jobArgs,
    tryCount: 2,
    creationTime: T0,
    nextTryTime: T0,
    lastTryTime: T0,
    isAbandoned: false,
    priority: 15,
    completionTime: null,
    extraProperties: '{}',
    concurrencyStamp: 'lease:x',
    leaseToken: 'lease:x',
    previousLeaseExpired: false,
    dueTime: T0,
  };
}

const nextImmediate = () => new Promise((resolve) => setImmediate(resolve));

/** A dispatcher with one recording handler per event, logging into `lines`. */
function setUp(extra: BackgroundJobEventHandler[] = []) {
  const seen: Array<[BackgroundJobEventName, BackgroundJobEvent]> = [];
  const lines: string[] = [];
  const handlers: BackgroundJobEventHandler[] = (['succeeded', 'failed', 'retrying', 'abandoned'] as const).map(
    (event) => ({ event, name: `Probe.on${event}`, handle: (e: BackgroundJobEvent) => void seen.push([event, e]) }),
  );
  const logger = {
    log: (m: string) => void lines.push(`log ${m}`),
    warn: (m: string) => void lines.push(`warn ${m}`),
    error: (m: string) => void lines.push(`error ${m}`),
  };
  return { dispatcher: new JobEventDispatcher([...extra, ...handlers], logger), seen, lines };
}

describe('JobEventDispatcher (@OnBackgroundJobEvent calls)', () => {
  it("gives each end its events: 'succeeded'; 'failed' then 'retrying'; 'failed' then 'abandoned'; none when interrupted", async () => {
    const { dispatcher, seen } = setUp();
    const error = new Error('boom');
    const next = new Date(T0.getTime() + 60_000);
    dispatcher.jobEnded({ job: job(), outcome: 'succeeded', durationMs: 12, result: { rows: 3 } });
    dispatcher.jobEnded({ job: job(), outcome: 'failed', durationMs: 5, error, nextTryTime: next });
    dispatcher.jobEnded({ job: job(), outcome: 'abandoned', durationMs: 0, error });
    dispatcher.jobEnded({ job: job(), outcome: 'interrupted', durationMs: 3, error });
    await nextImmediate();
    expect(seen.map(([name]) => name)).toEqual(['succeeded', 'failed', 'retrying', 'failed', 'abandoned']);
    const [succeeded, failed, retrying, , abandoned] = seen.map(([, e]) => e);
    expect({ ...succeeded, args: succeeded.args }).toEqual({
      event: 'succeeded',
      jobId: job().id,
      jobName: 'Probe',
      args: { n: 1 },
      tryCount: 2,
      durationMs: 12,
      result: { rows: 3 },
    });
    expect(failed).toMatchObject({ event: 'failed', error, durationMs: 5 });
    expect(failed.nextTryTime).toBeUndefined();
    expect(retrying).toMatchObject({ event: 'retrying', error, nextTryTime: next });
    expect(abandoned).toMatchObject({ event: 'abandoned', error, durationMs: 0 });
  });

  it("calls no handler on the job's path: they run on a later turn of the event loop", async () => {
    const { dispatcher, seen } = setUp();
    dispatcher.jobEnded({ job: job(), outcome: 'succeeded', durationMs: 1 });
    await Promise.resolve();
    expect(seen).toEqual([]);
    await nextImmediate();
    expect(seen).toHaveLength(1);
  });

  it('logs a handler that throws or rejects, and still calls the others', async () => {
    const throwing: BackgroundJobEventHandler = {
      event: 'succeeded',
      name: 'Audit.onSucceeded',
      handle: () => {
        throw new Error('audit down');
      },
    };
    const rejecting: BackgroundJobEventHandler = {
      event: 'succeeded',
      name: 'Mail.onSucceeded',
      handle: async () => Promise.reject(new Error('smtp down')),
    };
    const { dispatcher, seen, lines } = setUp([throwing, rejecting]);
    dispatcher.jobEnded({ job: job(), outcome: 'succeeded', durationMs: 1 });
    await nextImmediate();
    await nextImmediate();
    expect(seen).toHaveLength(1);
    expect(lines).toEqual([
      expect.stringMatching(
        /^error The 'succeeded' handler Audit.onSucceeded failed for job \S+ \(Probe\): Error: audit down/,
      ),
      expect.stringMatching(
        /^error The 'succeeded' handler Mail.onSucceeded failed for job \S+ \(Probe\): Error: smtp down/,
      ),
    ]);
  });

  it('hands args that are not JSON over as their text', async () => {
    const { dispatcher, seen } = setUp();
    dispatcher.jobEnded({ job: job('not {json'), outcome: 'abandoned', durationMs: 0, error: new Error('x') });
    await nextImmediate();
    expect(seen[0][1].args).toBe('not {json');
  });

  it('drain() runs what is queued and waits for async handlers, up to its timeout', async () => {
    let finish!: () => void;
    const slow: BackgroundJobEventHandler = {
      event: 'succeeded',
      name: 'Slow.onSucceeded',
      handle: () => new Promise<void>((resolve) => (finish = resolve)),
    };
    const { dispatcher, lines } = setUp([slow]);
    const ended: JobEnded = { job: job(), outcome: 'succeeded', durationMs: 1 };
    dispatcher.jobEnded(ended);
    let drained = false;
    const draining = dispatcher.drain(10_000).then(() => (drained = true));
    await nextImmediate();
    expect(drained).toBe(false);
    finish();
    await draining;
    expect(lines).toEqual([]);

    dispatcher.jobEnded(ended);
    await dispatcher.drain(20); // this one never finishes
    expect(lines).toEqual(['warn 1 background job event handler(s) still running after 20 ms']);
  });
});

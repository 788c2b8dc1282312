import { randomUUID } from 'node:crypto';
import { MemoryBackgroundJobStore } from '../store/memory/memory-background-job-store';
import { ENQUEUE_KEY_RETENTION_MS, enqueueFingerprint } from '../store/enqueue-keys';
import { ForeignJobNamesReport } from './foreign-job-names';
import { HOUSEKEEPING_PERIOD_MS, WorkerHousekeeping } from './worker-housekeeping';
import { cleanupLockName, SuccessfulJobCleanup } from './successful-job-cleanup';

const T0 = new Date('2030-01-01T00:00:00.000Z');

async function enqueue(
  store: MemoryBackgroundJobStore,
  jobName: string,
  creationTime: Date,
  keyed = false,
): Promise<void> {
  const id = randomUUID();
  await store.enqueue({
    applicationName: null,
    creationTime,
    jobs: [{ id, jobName, jobArgs: '{}', priority: 15, nextTryTime: creationTime, concurrencyStamp: 'c'.repeat(32) }],
    keys: keyed ? [{ id, fingerprint: enqueueFingerprint(jobName, '{}') }] : undefined,
  });
}

/** A succeeded row kept (StoreSuccessfulJobs) since `completionTime`. */
async function keptRow(store: MemoryBackgroundJobStore, completionTime: Date): Promise<void> {
  await store.insert([
    {
      id: randomUUID(),
      applicationName: null,
      jobName: 'Known',
      jobArgs: '{}',
      tryCount: 1,
      creationTime: completionTime,
      nextTryTime: completionTime,
      lastTryTime: completionTime,
      isAbandoned: false,
      priority: 15,
      completionTime,
      extraProperties: '{}',
      concurrencyStamp: 'k'.repeat(32),
    },
  ]);
}

/** Housekeeping for a worker whose job names are `known` (only 'Known' unless given), logging into `lines` as "level message". */
function housekeepingFor(
  store: MemoryBackgroundJobStore,
  lines: string[],
  successfulJobs?: ConstructorParameters<typeof WorkerHousekeeping>[4],
  known: string[] = ['Known'],
): WorkerHousekeeping {
  const logger = {
    log: (m: string) => void lines.push(`log ${m}`),
    warn: (m: string) => void lines.push(`warn ${m}`),
    error: (m: string) => void lines.push(`error ${m}`),
  };
  return new WorkerHousekeeping(
    store,
    new ForeignJobNamesReport(store, null, () => known, logger),
    logger,
    HOUSEKEEPING_PERIOD_MS,
    successfulJobs,
  );
}

describe('WorkerHousekeeping', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'], now: T0 }));
  afterEach(() => jest.useRealTimers());

  it('at start and then hourly reports due rows of unknown job names and deletes expired enqueue keys', async () => {
    const store = new MemoryBackgroundJobStore();
    await enqueue(store, 'Known', T0);
    await enqueue(store, 'MyReportJobArgs ', T0);
    await enqueue(store, 'MyReportJobArgs ', T0);
    await enqueue(store, 'Old', T0);
    await enqueue(store, 'Old', new Date(T0.getTime() + 3_600_000)); // not due yet
    await enqueue(store, 'Known', new Date(T0.getTime() - ENQUEUE_KEY_RETENTION_MS - 1), true); // an expired key
    await enqueue(store, 'Known', new Date(T0.getTime() - 1000), true); // a young key
    const lines: string[] = [];
    const housekeeping = housekeepingFor(store, lines);

    housekeeping.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(lines).toEqual([
      'warn 3 due rows have job names no worker here runs: "MyReportJobArgs " (2), "Old" (1)',
      'log Deleted 1 expired enqueue key(s)',
    ]);

    await jest.advanceTimersByTimeAsync(HOUSEKEEPING_PERIOD_MS - 1);
    expect(lines).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(1);
    // An hour on, the delayed row is due too; the young key is not expired yet.
    expect(lines.slice(2)).toEqual([
      'warn 4 due rows have job names no worker here runs: "MyReportJobArgs " (2), "Old" (2)',
    ]);
    await housekeeping.stop();
  });

  it('reads the job names at each report: a handler registered after start is not reported as unknown', async () => {
    const store = new MemoryBackgroundJobStore();
    await enqueue(store, 'Dynamic', T0);
    const lines: string[] = [];
    const known = ['Known'];
    const housekeeping = housekeepingFor(store, lines, undefined, known);
    housekeeping.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(lines).toEqual(['warn 1 due row has a job name no worker here runs: "Dynamic" (1)']);
    known.push('Dynamic'); // registerHandler('Dynamic', ...) at run time
    await jest.advanceTimersByTimeAsync(HOUSEKEEPING_PERIOD_MS);
    expect(lines).toHaveLength(1);
    await housekeeping.stop();
  });

  it('says nothing when every due row has a known name, and nothing of a database that does not answer', async () => {
    const store = new MemoryBackgroundJobStore();
    await enqueue(store, 'Known', T0);
    const lines: string[] = [];
    const housekeeping = housekeepingFor(store, lines);
    housekeeping.start();
    await jest.advanceTimersByTimeAsync(0);
    store.simulateOutage();
    await jest.advanceTimersByTimeAsync(HOUSEKEEPING_PERIOD_MS);
    expect(lines).toEqual([]);
    await housekeeping.stop();
  });

  it('with StoreSuccessfulJobs deletes kept rows past their retention at start and every CleanSuccessfulJobsPeriod', async () => {
    const store = new MemoryBackgroundJobStore();
    const retentionMs = 3_600_000;
    for (let i = 0; i < 3; i++) await keptRow(store, new Date(T0.getTime() - retentionMs - 1000 * (i + 1)));
    await keptRow(store, new Date(T0.getTime() - retentionMs + 30_000)); // expires 30 s in
    const lines: string[] = [];
    const cleanup = new SuccessfulJobCleanup(store, {
      applicationName: null,
      successfulJobRetentionTime: retentionMs / 1000,
      maxJobFetchCount: 2,
    });
    const housekeeping = housekeepingFor(store, lines, { cleanup, periodMs: 60_000 });

    housekeeping.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(lines).toEqual(['log Deleted 3 kept successful job(s) past their retention']);
    expect(await store.count()).toBe(1);
    await jest.advanceTimersByTimeAsync(59_999);
    expect(await store.count()).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(lines.slice(1)).toEqual(['log Deleted 1 kept successful job(s) past their retention']);
    expect(await store.count()).toBe(0);
    await housekeeping.stop();
  });

  it('skips the cleanup round while another worker holds the cleanup lock', async () => {
    const store = new MemoryBackgroundJobStore();
    await keptRow(store, new Date(T0.getTime() - 86_400_000));
    const lines: string[] = [];
    const cleanup = new SuccessfulJobCleanup(store, {
      applicationName: null,
      successfulJobRetentionTime: 60,
      maxJobFetchCount: 1000,
    });
    let release!: () => void;
    const held = store.tryWithLock(cleanupLockName(null), () => new Promise<void>((r) => (release = r)));
    const housekeeping = housekeepingFor(store, lines, { cleanup, periodMs: 60_000 });
    housekeeping.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(lines).toEqual([]);
    expect(await store.count()).toBe(1);
    release();
    await held;
    await jest.advanceTimersByTimeAsync(60_000);
    expect(lines).toEqual(['log Deleted 1 kept successful job(s) past their retention']);
    await housekeeping.stop();
  });
});

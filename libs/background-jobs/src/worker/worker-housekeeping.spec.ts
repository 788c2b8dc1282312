import { randomUUID } from 'node:crypto';
import { MemoryBackgroundJobStore } from '../store/memory/memory-background-job-store';
import { ENQUEUE_KEY_RETENTION_MS, enqueueFingerprint } from '../store/enqueue-keys';
import { ForeignJobNamesReport } from './foreign-job-names';
import { HOUSEKEEPING_PERIOD_MS, WorkerHousekeeping } from './worker-housekeeping';

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

/** Housekeeping for a worker whose only job name is 'Known', logging into `lines` as "level message". */
function housekeepingFor(store: MemoryBackgroundJobStore, lines: string[]): WorkerHousekeeping {
  const logger = {
    log: (m: string) => void lines.push(`log ${m}`),
    warn: (m: string) => void lines.push(`warn ${m}`),
    error: (m: string) => void lines.push(`error ${m}`),
  };
  return new WorkerHousekeeping(store, new ForeignJobNamesReport(store, null, new Set(['Known']), logger), logger);
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
});

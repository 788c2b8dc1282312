import { LoggerService } from '@nestjs/common';
import { MemoryBackgroundJobStore } from '../store/memory/memory-background-job-store';
import type { ScheduleDefinition } from '../store/schedule-store';
import { RecurringJobScheduler } from './recurring-job-scheduler';
import { saveSchedule } from './save-schedule';

/**
 * The scheduler on the in-memory store and fake timers: every worker's scheduler is one instance
 * here, sharing one store as workers share one database.
 */
const T0 = new Date('2030-01-01T00:00:00.500Z');

function definition(overrides: Partial<ScheduleDefinition> = {}): ScheduleDefinition {
  return {
    name: 'every-second',
    applicationName: null,
    jobName: 'TickArgs',
    jobArgs: '{"n":1}',
    cron: '* * * * * *',
    timeZone: null,
    priority: 15,
    source: 'runtime',
    ...overrides,
  };
}

class Lines implements LoggerService {
  readonly lines: string[] = [];
  log(message: string) {
    this.lines.push(message);
  }
  error(message: string) {
    this.lines.push(`ERROR ${message}`);
  }
  warn(message: string) {
    this.lines.push(`WARN ${message}`);
  }
}

describe('RecurringJobScheduler', () => {
  let store: MemoryBackgroundJobStore;
  let schedulers: RecurringJobScheduler[];
  let logs: Lines;

  beforeEach(() => {
    jest.useFakeTimers({ now: T0 });
    store = new MemoryBackgroundJobStore();
    schedulers = [];
    logs = new Lines();
  });

  afterEach(async () => {
    const stopping = Promise.all(schedulers.map((s) => s.stop()));
    await jest.runOnlyPendingTimersAsync();
    await stopping;
    jest.useRealTimers();
  });

  function start(declarations: ScheduleDefinition[] = [], applicationName: string | null = null) {
    const scheduler = new RecurringJobScheduler(
      store.schedules,
      declarations,
      { applicationName, refreshMs: 5000 },
      logs,
    );
    schedulers.push(scheduler);
    scheduler.start();
    return scheduler;
  }

  const occurrences = async () =>
    (await store.list()).map((row) => (JSON.parse(row.extraProperties) as { Occurrence?: string }).Occurrence).sort();

  it('enqueues each occurrence of a every-second schedule once, however many workers run it', async () => {
    await saveSchedule(store.schedules, definition(), T0);
    start();
    start();
    start();
    await jest.advanceTimersByTimeAsync(5000);
    expect(await occurrences()).toEqual([
      '2030-01-01T00:00:01.000Z',
      '2030-01-01T00:00:02.000Z',
      '2030-01-01T00:00:03.000Z',
      '2030-01-01T00:00:04.000Z',
      '2030-01-01T00:00:05.000Z',
    ]);
    expect(logs.lines.filter((l) => l.startsWith('Recurring job "every-second" enqueued'))).toHaveLength(5);
  });

  it('runs only the latest of the occurrences missed while no worker ran, once, at start', async () => {
    await saveSchedule(
      store.schedules,
      definition({ name: 'hourly', cron: '0 * * * *' }),
      new Date('2029-12-31T20:30:00Z'),
    );
    start();
    start();
    await jest.advanceTimersByTimeAsync(100);
    expect(await occurrences()).toEqual(['2030-01-01T00:00:00.000Z']);
  });

  it('skips a paused schedule; after resume only what comes next runs', async () => {
    await saveSchedule(store.schedules, definition(), T0);
    await store.schedules.setPaused('every-second', true, T0);
    start();
    await jest.advanceTimersByTimeAsync(3000);
    expect(await occurrences()).toEqual([]);
    await store.schedules.setPaused('every-second', false, new Date());
    schedulers[0].refresh();
    await jest.advanceTimersByTimeAsync(1000);
    expect(await occurrences()).toEqual(['2030-01-01T00:00:04.000Z']);
  });

  it('writes the schedules declared in code at start and runs them; not those only another process declares', async () => {
    const declared = definition({ name: 'declared', source: 'code', cron: '*/2 * * * * *' });
    await saveSchedule(store.schedules, definition({ name: 'elsewhere', source: 'code' }), T0);
    start([declared]);
    await jest.advanceTimersByTimeAsync(4000);
    expect(await store.schedules.find('declared')).toMatchObject({ source: 'code', cron: '*/2 * * * * *' });
    expect(logs.lines).toContain('Recurring job schedule "declared" (*/2 * * * * *) created from @RecurringJob');
    const rows = await store.list();
    expect(rows.map((r) => JSON.parse(r.extraProperties) as { Schedule: string }).map((p) => p.Schedule)).toEqual([
      'declared',
      'declared',
    ]);
  });

  it("runs only its own application's schedules", async () => {
    await saveSchedule(store.schedules, definition({ name: 'theirs', applicationName: 'other' }), T0);
    await saveSchedule(store.schedules, definition({ name: 'ours', applicationName: 'mine' }), T0);
    start([], 'mine');
    await jest.advanceTimersByTimeAsync(2000);
    expect(new Set((await store.list()).map((r) => r.applicationName))).toEqual(new Set(['mine']));
  });

  it('sees a schedule another process adds at its next refresh, and runs its first occurrence', async () => {
    start();
    await jest.advanceTimersByTimeAsync(1000);
    await saveSchedule(store.schedules, definition({ name: 'later', cron: '0 * * * * *' }), new Date());
    await jest.advanceTimersByTimeAsync(60_000);
    expect(await occurrences()).toEqual(['2030-01-01T00:01:00.000Z']);
  });

  it('says once that the database is away, and after it runs the latest occurrence missed meanwhile', async () => {
    await saveSchedule(store.schedules, definition({ name: 'ten', cron: '*/10 * * * * *' }), T0);
    store.simulateOutage(true);
    start();
    await jest.advanceTimersByTimeAsync(25_000);
    expect(logs.lines.filter((l) => l.startsWith('ERROR'))).toHaveLength(1);
    store.simulateOutage(false);
    await jest.advanceTimersByTimeAsync(5000);
    // Back at the retry 5 s after the last failed one: 00:10 and 00:20 were missed, 00:30 is the latest.
    expect(await occurrences()).toEqual(['2030-01-01T00:00:30.000Z']);
    expect(logs.lines).toContain('Recurring jobs: the schedules can be read again');
  });
});

import { randomBytes, randomUUID } from 'node:crypto';
import type { ScheduleDefinition, ScheduleRecord } from '@app/background-jobs/store/schedule-store';
import { saveSchedule } from '@app/background-jobs/schedules/save-schedule';
import { ScheduleDeclaredInCodeError } from '@app/background-jobs/schedules/schedule-errors';
import { occurrenceJobRow, scheduledJobRow } from '@app/background-jobs/schedules/schedule-jobs';
import { storeBackends } from '../support/backends';
import { describeOnStoreBackends } from '../support/store-suite';

/**
 * Recurring jobs' schedules (store.schedules, AbpBackgroundJobSchedules): every dialect must keep
 * the cursor moving only forward, and enqueue one occurrence once however many workers race.
 */
jest.setTimeout(30_000);

const T0 = new Date('2030-06-15T12:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;
const hex32 = () => randomBytes(16).toString('hex');

function definition(overrides: Partial<ScheduleDefinition> = {}): ScheduleDefinition {
  return {
    name: unique('nightly'),
    applicationName: null,
    jobName: 'ScheduledJobArgs',
    jobArgs: '{"full":true}',
    cron: '0 3 * * *',
    timeZone: 'Europe/Berlin',
    priority: 15,
    source: 'runtime',
    ...overrides,
  };
}

function schedule(overrides: Partial<ScheduleRecord> = {}): ScheduleRecord {
  return {
    ...definition(),
    isPaused: false,
    definitionStamp: hex32(),
    creationTime: T0,
    lastOccurrenceTime: T0,
    lastEnqueueTime: null,
    lastJobId: null,
    ...overrides,
  };
}

describeOnStoreBackends('Recurring job schedules: %s', storeBackends, (suite) => {
  const schedules = () => suite.store.schedules;
  const occurrence = (s: ScheduleRecord, time: Date) => ({
    name: s.name,
    job: occurrenceJobRow(s, time, time),
    occurrence: { time, definitionStamp: s.definitionStamp },
  });

  it('inserts a schedule once, finds it by its exact name, and lists an application’s schedules by name', async () => {
    const app = unique('app');
    const b = schedule({ name: `${unique('b')}`, applicationName: app, timeZone: null, lastJobId: randomUUID() });
    const a = schedule({ name: `a-${b.name}`, applicationName: app, lastEnqueueTime: at(5) });
    expect(await schedules().insert(b)).toBe(true);
    expect(await schedules().insert(a)).toBe(true);
    expect(await schedules().insert({ ...b, cron: '* * * * *' })).toBe(false);
    expect(await schedules().find(b.name)).toEqual(b);
    expect(await schedules().find(b.name.toUpperCase())).toBeUndefined();
    expect(await schedules().find(`${b.name} `)).toBeUndefined();
    expect(await schedules().list(app)).toEqual([a, b]);
    expect((await schedules().list()).map((s) => s.name)).toEqual(expect.arrayContaining([a.name, b.name]));
    const nullApp = schedule();
    await schedules().insert(nullApp);
    expect((await schedules().list(null)).map((s) => s.name)).toContain(nullApp.name);
    expect((await schedules().list(null)).map((s) => s.name)).not.toContain(a.name);
  });

  it('updates a definition only under the stamp read, and never moves the cursor back', async () => {
    const s = schedule({ lastOccurrenceTime: at(10_000) });
    await schedules().insert(s);
    const changed = { ...definition({ name: s.name }), cron: '*/5 * * * * *', jobArgs: '{"n":2}', priority: 5 };
    expect(await schedules().updateDefinition(changed, 'another stamp', hex32(), at(20_000))).toBe(false);
    const stamp = hex32();
    expect(await schedules().updateDefinition(changed, s.definitionStamp, stamp, at(5_000))).toBe(true);
    expect(await schedules().find(s.name)).toEqual({
      ...s,
      ...changed,
      definitionStamp: stamp,
      lastOccurrenceTime: at(10_000),
    });
    expect(await schedules().updateDefinition(changed, stamp, hex32(), at(20_000))).toBe(true);
    expect((await schedules().find(s.name))?.lastOccurrenceTime).toEqual(at(20_000));
  });

  it('pauses, and resumes from the time given (what came due while paused never runs); removes', async () => {
    const s = schedule();
    await schedules().insert(s);
    expect(await schedules().setPaused(s.name, true, at(1000))).toBe(true);
    expect(await schedules().setPaused(s.name, true, at(2000))).toBe(true);
    expect(await schedules().find(s.name)).toMatchObject({ isPaused: true, lastOccurrenceTime: T0 });
    expect(await schedules().enqueueRun(occurrence(s, at(3000)), at(3000))).toBe(false);
    expect(await schedules().setPaused(s.name, false, at(60_000))).toBe(true);
    expect(await schedules().find(s.name)).toMatchObject({ isPaused: false, lastOccurrenceTime: at(60_000) });
    expect(await schedules().setPaused(s.name, false, at(90_000))).toBe(true);
    expect((await schedules().find(s.name))?.lastOccurrenceTime).toEqual(at(60_000));
    expect(await schedules().setPaused('no such schedule', true, T0)).toBe(false);
    expect(await schedules().remove(s.name)).toBe(true);
    expect(await schedules().remove(s.name)).toBe(false);
    expect(await schedules().find(s.name)).toBeUndefined();
  });

  it('enqueues an occurrence once: the cursor moves with the job row, and never back', async () => {
    const s = schedule();
    await schedules().insert(s);
    const first = occurrence(s, at(60_000));
    expect(await schedules().enqueueRun(first, at(60_100))).toBe(true);
    const row = await suite.store.find(first.job.id);
    expect(row).toMatchObject({
      jobName: s.jobName,
      jobArgs: s.jobArgs,
      priority: s.priority,
      tryCount: 0,
      isAbandoned: false,
      creationTime: at(60_100),
    });
    expect(JSON.parse(row!.extraProperties)).toEqual({ Schedule: s.name, Occurrence: at(60_000).toISOString() });
    expect(await schedules().find(s.name)).toMatchObject({
      lastOccurrenceTime: at(60_000),
      lastEnqueueTime: at(60_100),
      lastJobId: first.job.id,
    });
    // Again, after the job ran and its row is gone: the cursor says it was done.
    await suite.store.claim({
      applicationName: null,
      jobNames: [s.jobName],
      limit: 100,
      now: at(61_000),
      leaseUntil: at(120_000),
      leaseToken: 'lease:done',
    });
    await suite.store.complete('lease:done', [first.job.id]);
    expect(await schedules().enqueueRun(occurrence(s, at(60_000)), at(61_000))).toBe(false);
    expect(await schedules().enqueueRun(occurrence(s, at(30_000)), at(61_000))).toBe(false);
    expect(await suite.store.find(first.job.id)).toBeUndefined();
    expect(
      await schedules().enqueueRun(
        { ...occurrence(s, at(90_000)), occurrence: { time: at(90_000), definitionStamp: 'old' } },
        at(90_000),
      ),
    ).toBe(false);
    expect(await schedules().enqueueRun(occurrence(s, at(90_000)), at(90_000))).toBe(true);
  });

  it('runs an occurrence once when eight stores race for it', async () => {
    const s = schedule();
    await schedules().insert(s);
    const stores = [
      suite.store,
      ...(await Promise.all(Array.from({ length: 7 }, () => suite.open()))).map((o) => o.store),
    ];
    for (const second of [1, 2, 3]) {
      const time = at(second * 1000);
      const results = await Promise.all(stores.map((store) => store.schedules.enqueueRun(occurrence(s, time), time)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await suite.store.find(occurrence(s, time).job.id)).toBeDefined();
    }
  });

  it('triggers a run outside the cron, paused or not, leaving the cursor where it was', async () => {
    const s = schedule({ isPaused: true });
    await schedules().insert(s);
    const job = scheduledJobRow(s, randomUUID(), at(5000), { Trigger: 'manual' });
    expect(await schedules().enqueueRun({ name: s.name, job }, at(5000))).toBe(true);
    expect(await suite.store.find(job.id)).toMatchObject({ jobName: s.jobName, creationTime: at(5000) });
    expect(await schedules().find(s.name)).toMatchObject({
      lastOccurrenceTime: T0,
      lastEnqueueTime: at(5000),
      lastJobId: job.id,
    });
    expect(await schedules().enqueueRun({ name: 'no such schedule', job: { ...job, id: randomUUID() } }, T0)).toBe(
      false,
    );
  });

  describe('saveSchedule', () => {
    it('creates, then finds nothing to change, then updates keeping the cursor unless the rule changed', async () => {
      const d = definition();
      expect(await saveSchedule(schedules(), d, T0)).toBe('created');
      expect(await schedules().find(d.name)).toMatchObject({
        ...d,
        isPaused: false,
        lastOccurrenceTime: T0,
        creationTime: T0,
      });
      expect(await saveSchedule(schedules(), d, at(1000))).toBe('unchanged');
      expect(await saveSchedule(schedules(), { ...d, jobArgs: '{"n":2}' }, at(2000))).toBe('updated');
      expect((await schedules().find(d.name))?.lastOccurrenceTime).toEqual(T0);
      expect(await saveSchedule(schedules(), { ...d, cron: '0 4 * * *' }, at(3000))).toBe('updated');
      expect((await schedules().find(d.name))?.lastOccurrenceTime).toEqual(at(3000));
    });

    it('never lets a runtime save overwrite a schedule declared in code; code takes a runtime one over', async () => {
      const code = definition({ source: 'code' });
      await saveSchedule(schedules(), code, T0);
      await expect(saveSchedule(schedules(), { ...code, source: 'runtime', cron: '* * * * *' }, T0)).rejects.toThrow(
        ScheduleDeclaredInCodeError,
      );
      const runtime = definition();
      await saveSchedule(schedules(), runtime, T0);
      expect(await saveSchedule(schedules(), { ...runtime, source: 'code' }, T0)).toBe('updated');
      expect((await schedules().find(runtime.name))?.source).toBe('code');
    });
  });
});

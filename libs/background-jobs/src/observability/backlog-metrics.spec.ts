import { Registry } from 'prom-client';
import { MemoryBackgroundJobStore } from '../store/memory/memory-background-job-store';
import type { BackgroundJobRecord } from '../store/background-job-record';
import { BacklogMetrics } from './backlog-metrics';

function row(jobName: string, dueAgoMs: number, applicationName: string | null = 'app'): BackgroundJobRecord {
  const now = Date.now();
  return {
    id: `00000000-0000-4000-8000-${Math.random().toString(16).slice(2, 14).padEnd(12, '0')}`,
    applicationName,
    jobName,
    jobArgs: '{}',
    tryCount: 0,
    creationTime: new Date(now - dueAgoMs),
    nextTryTime: new Date(now - dueAgoMs),
    lastTryTime: null,
    isAbandoned: false,
    priority: 15,
    completionTime: null,
    extraProperties: '{}',
    concurrencyStamp: 'x',
  };
}

/** The scraped text's samples of the backlog gauges, by series. */
async function scrape(registry: Registry): Promise<Record<string, number>> {
  const text = await registry.metrics();
  return Object.fromEntries(
    text
      .split('\n')
      .filter((line) => line && !line.startsWith('#'))
      .map((line) => {
        const at = line.lastIndexOf(' ');
        return [line.slice(0, at), Number(line.slice(at + 1))];
      }),
  );
}

describe('BacklogMetrics', () => {
  it("reads the application's waiting rows per job name and the oldest one's age when scraped", async () => {
    const store = new MemoryBackgroundJobStore();
    await store.insert([row('A', 60_000), row('A', 1000), row('B', 5000), row('Z', 10 * 60_000, 'other')]);
    const registry = new Registry();
    new BacklogMetrics(registry, store, { applicationName: 'app' });

    const samples = await scrape(registry);
    expect(samples['background_jobs_waiting{job_name="A"}']).toBe(2);
    expect(samples['background_jobs_waiting{job_name="B"}']).toBe(1);
    expect(samples['background_jobs_waiting{job_name="Z"}']).toBeUndefined();
    expect(samples.background_jobs_oldest_waiting_age_seconds).toBeGreaterThanOrEqual(60);
    expect(samples.background_jobs_oldest_waiting_age_seconds).toBeLessThan(70);
    expect(samples.background_jobs_database_up).toBe(1);
  });

  it('reads the database at most once per interval, however many scrapes come', async () => {
    const store = new MemoryBackgroundJobStore();
    const reads = jest.spyOn(store, 'oldestDueTime');
    const registry = new Registry();
    new BacklogMetrics(registry, store, { applicationName: null, minIntervalMs: 60_000 });
    await Promise.all([scrape(registry), scrape(registry)]);
    await store.insert([row('A', 0, null)]);
    const samples = await scrape(registry);
    expect(reads).toHaveBeenCalledTimes(1);
    expect(samples['background_jobs_waiting{job_name="A"}']).toBeUndefined();
    expect(samples.background_jobs_oldest_waiting_age_seconds).toBe(0);
  });

  it('says the database is down, and drops the backlog figures, while it cannot be read or does not answer in time', async () => {
    const store = new MemoryBackgroundJobStore();
    await store.insert([row('A', 1000)]);
    const registry = new Registry();
    new BacklogMetrics(registry, store, { applicationName: 'app', minIntervalMs: 0, timeoutMs: 100 });
    expect((await scrape(registry))['background_jobs_waiting{job_name="A"}']).toBe(1);

    store.simulateOutage();
    let samples = await scrape(registry);
    expect(samples.background_jobs_database_up).toBe(0);
    expect(samples['background_jobs_waiting{job_name="A"}']).toBeUndefined();
    expect(samples.background_jobs_oldest_waiting_age_seconds).toBeNaN();

    store.simulateOutage(false);
    let answer: () => void = () => undefined;
    jest
      .spyOn(store, 'oldestDueTime')
      .mockImplementationOnce(() => new Promise((resolve) => (answer = () => resolve(null))));
    const started = Date.now();
    samples = await scrape(registry);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(samples.background_jobs_database_up).toBe(0);
    answer();
    await new Promise((resolve) => setImmediate(resolve));
    expect((await scrape(registry)).background_jobs_database_up).toBe(1);
  });
});

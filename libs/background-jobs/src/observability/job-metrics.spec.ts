import { Registry } from 'prom-client';
import type { ClaimedJob } from '../store/background-job-record';
import type { EnqueueBatch } from '../store/background-job-store';
import { JobMetrics } from './job-metrics';

const NOW = Date.parse('2030-01-01T00:00:10.000Z');

let seq = 0;
function claimed(jobName: string, dueAgoMs = 0): ClaimedJob {
  return {
    id: `00000000-0000-4000-8000-${String(++seq).padStart(12, '0')}`,
    jobName,
    jobArgs: '{"secret":"do not label me"}',
    tryCount: 1,
    dueTime: new Date(NOW - dueAgoMs),
  } as ClaimedJob;
}

function batch(...jobNames: string[]): EnqueueBatch {
  return {
    applicationName: null,
    creationTime: new Date(NOW),
    jobs: jobNames.map((jobName, i) => ({
      id: `id-${i}`,
      jobName,
      jobArgs: '{}',
      priority: 15,
      nextTryTime: new Date(NOW),
      concurrencyStamp: 'x',
    })),
  };
}

async function values(registry: Registry, name: string): Promise<Array<{ labels: object; value: number }>> {
  const metric = await registry.getSingleMetric(name)!.get();
  // A histogram's samples carry the series they belong to (_bucket, _sum, _count) as metricName.
  return (metric.values as Array<{ labels: object; value: number; metricName?: string }>).map(
    ({ labels, value, metricName }) => ({ labels: metricName ? { ...labels, metricName } : labels, value }),
  );
}

describe('JobMetrics', () => {
  let registry: Registry;
  let metrics: JobMetrics;
  let running: number;
  beforeEach(() => {
    registry = new Registry();
    running = 0;
    metrics = new JobMetrics(
      registry,
      () => running,
      () => NOW,
    );
  });

  it('counts enqueued jobs per job name, a batch of mixed names included', async () => {
    metrics.jobsEnqueued(batch('A', 'A', 'B', 'A'));
    metrics.jobsEnqueued(batch('B'));
    metrics.jobsEnqueued(batch());
    expect(await values(registry, 'background_jobs_enqueued_total')).toEqual([
      { labels: { job_name: 'A' }, value: 3 },
      { labels: { job_name: 'B' }, value: 2 },
    ]);
  });

  it('counts completions by job name and outcome, and times runs; an interrupted run is no completion', async () => {
    const runs = [claimed('A'), claimed('A'), claimed('A'), claimed('B')];
    for (const job of runs) metrics.jobStarted(job);
    metrics.jobEnded({ job: runs[0], outcome: 'succeeded', durationMs: 4 });
    metrics.jobEnded({ job: runs[1], outcome: 'failed', durationMs: 20, error: new Error('x') });
    metrics.jobEnded({ job: runs[2], outcome: 'interrupted', durationMs: 30, error: new Error('x') });
    metrics.jobEnded({ job: runs[3], outcome: 'abandoned', durationMs: 2000, error: new Error('x') });

    expect(await values(registry, 'background_jobs_completed_total')).toEqual([
      { labels: { job_name: 'A', outcome: 'succeeded' }, value: 1 },
      { labels: { job_name: 'A', outcome: 'failed' }, value: 1 },
      { labels: { job_name: 'B', outcome: 'abandoned' }, value: 1 },
    ]);
    const duration = await values(registry, 'background_jobs_duration_seconds');
    expect(duration).toContainEqual({
      labels: { job_name: 'A', metricName: 'background_jobs_duration_seconds_count' },
      value: 2,
    });
    expect(duration).toContainEqual({
      labels: { job_name: 'A', metricName: 'background_jobs_duration_seconds_sum' },
      value: 0.024,
    });
    expect(duration).toContainEqual({
      labels: { job_name: 'B', le: 2.5, metricName: 'background_jobs_duration_seconds_bucket' },
      value: 1,
    });
    expect(duration).toContainEqual({
      labels: { job_name: 'B', le: 1, metricName: 'background_jobs_duration_seconds_bucket' },
      value: 0,
    });
  });

  it('reports the running jobs the worker counts, and times no run for a row abandoned before it ran', async () => {
    running = 2;
    expect(await values(registry, 'background_jobs_running')).toEqual([{ labels: {}, value: 2 }]);
    const ran = claimed('A');
    metrics.jobStarted(ran);
    metrics.jobEnded({ job: ran, outcome: 'succeeded', durationMs: 1 });
    metrics.jobEnded({ job: claimed('A'), outcome: 'abandoned', durationMs: 0, error: new Error('lost try') });
    const completed = await values(registry, 'background_jobs_completed_total');
    expect(completed).toContainEqual({ labels: { job_name: 'A', outcome: 'abandoned' }, value: 1 });
    expect(await values(registry, 'background_jobs_duration_seconds')).toContainEqual({
      labels: { job_name: 'A', metricName: 'background_jobs_duration_seconds_count' },
      value: 1,
    });
  });

  it('gives the same totals to every scrape, and the new ones after more runs', async () => {
    const runs = [claimed('A'), claimed('A')];
    metrics.jobStarted(runs[0]);
    metrics.jobEnded({ job: runs[0], outcome: 'succeeded', durationMs: 1 });
    const first = await registry.metrics();
    expect(await registry.metrics()).toBe(first);
    metrics.jobStarted(runs[1]);
    metrics.jobEnded({ job: runs[1], outcome: 'succeeded', durationMs: 1 });
    expect(await values(registry, 'background_jobs_completed_total')).toEqual([
      { labels: { job_name: 'A', outcome: 'succeeded' }, value: 2 },
    ]);
  });

  it('observes the pickup delay from the due time to the start, never below zero', async () => {
    metrics.jobStarted(claimed('A', 1500));
    metrics.jobStarted(claimed('A', -200)); // due "later": the enqueuer's clock is ahead
    const delay = await values(registry, 'background_jobs_pickup_delay_seconds');
    expect(delay).toContainEqual({
      labels: { job_name: 'A', metricName: 'background_jobs_pickup_delay_seconds_sum' },
      value: 1.5,
    });
    expect(delay).toContainEqual({
      labels: { job_name: 'A', le: 0.005, metricName: 'background_jobs_pickup_delay_seconds_bucket' },
      value: 1,
    });
  });

  it('never puts args or ids in a label', async () => {
    const job = claimed('A');
    metrics.jobsEnqueued(batch('A'));
    metrics.jobStarted(job);
    metrics.jobEnded({ job, outcome: 'succeeded', durationMs: 1 });
    const text = await registry.metrics();
    expect(text).not.toContain('secret');
    expect(text).not.toContain(job.id);
    expect(text).not.toContain('id-0');
  });
});

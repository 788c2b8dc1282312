import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BACKLOG_METRICS, JOB_METRICS } from '@app/background-jobs';

interface Panel {
  title: string;
  targets?: Array<{ expr: string }>;
}

/** docs/grafana-dashboard.json asks only for metrics the apps export, so a rename cannot leave it blank. */
describe('docs/grafana-dashboard.json', () => {
  const dashboard = JSON.parse(readFileSync(join(__dirname, '../../docs/grafana-dashboard.json'), 'utf8')) as {
    panels: Panel[];
  };
  const exported = new Set<string>([...Object.values(JOB_METRICS), ...Object.values(BACKLOG_METRICS)]);
  const histograms = [JOB_METRICS.duration, JOB_METRICS.pickupDelay];
  for (const name of histograms) for (const suffix of ['_bucket', '_sum', '_count']) exported.add(`${name}${suffix}`);

  it('queries only metric names the apps export', () => {
    const used = dashboard.panels
      .flatMap((p) => p.targets ?? [])
      .flatMap((t) => t.expr.match(/background_jobs_\w+/g) ?? []);
    expect(used.length).toBeGreaterThan(10);
    expect([...new Set(used)].filter((name) => !exported.has(name))).toEqual([]);
  });

  it('has the panels the README promises: backlog, throughput by outcome, duration percentiles, pickup delay, workers up', () => {
    const titles = dashboard.panels.map((p) => p.title).join(' | ');
    for (const words of [/Backlog/, /Throughput by outcome/, /duration percentiles/, /Pickup delay/, /Workers up/])
      expect(titles).toMatch(words);
  });
});

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { BenchRun } from './report';
import type { SystemResult } from './system';

const WIDTH = 920;
const LABEL_WIDTH = 300;
const BAR_HEIGHT = 18;
const ROW_GAP = 8;
const VALUE_WIDTH = 150;
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';
const OURS = '#2f6fde';
const PEER = '#9aa5b1';
const P95 = '#c9d6ea';
const P95_PEER = '#dfe3e8';

/** A row's name in the chart, short enough for its label column: the system, then what the row measures. */
export function chartLabel(r: SystemResult, measured?: string): string {
  const [main, sub] = r.system.split(/: (.*)/s);
  const base = main
    .replace(/^graphile-worker [\d.]+, concurrency (\d+), localQueue.*$/, 'graphile-worker c$1 batched')
    .replace(/^graphile-worker [\d.]+, concurrency (\d+), defaults$/, 'graphile-worker c$1 defaults')
    .replace(/^ours, MaxParallelJobExecutionCount (\d+).*$/, `ours c$1 ${r.store}`)
    .replace(/^pg-boss [\d.]+, (\d+) workers.*$/, 'pg-boss $1 workers')
    .replace(/^BullMQ [\d.]+, concurrency (\d+)$/, 'BullMQ c$1');
  const what = measured ?? sub;
  const label = what ? `${base}: ${what.replace(/ -> job start$/, '').replace(/ to the web app$/, '')}` : base;
  return label.length > 46 ? `${label.slice(0, 45)}…` : label;
}

const isOurs = (r: SystemResult) => r.system.startsWith('ours');

interface Bar {
  label: string;
  value: number;
  text: string;
  ours: boolean;
  /** A second, lighter bar behind the first (p95 behind p50). */
  behind?: number;
}

/**
 * Draws the run as one SVG: burn-down jobs/s and enqueue jobs/s per system, and the pickup
 * latency percentiles (p50 over p95) of the rows that measure it. Our rows in blue.
 */
export function writeChart(file: string, results: SystemResult[], run: BenchRun): void {
  const ok = results.filter((r) => !r.error);
  const panels: Array<{ title: string; bars: Bar[] }> = [
    {
      title: `Burn-down of ${run.jobs.toLocaleString('en-US')} jobs, one consumer process (jobs/s, median of ${run.rounds} rounds; in brackets: vs graphile-worker batched)`,
      bars: ok
        .filter((r) => r.burnDownJobsPerSec)
        .map((r) => ({
          label: chartLabel(r),
          value: r.burnDownJobsPerSec!,
          text: `${Math.round(r.burnDownJobsPerSec!).toLocaleString('en-US')}${r.ratioToGraphileBatched ? `  (${r.ratioToGraphileBatched.toFixed(2)}x)` : ''}`,
          ours: isOurs(r),
        })),
    },
    {
      title: `Enqueue of ${run.jobs.toLocaleString('en-US')} jobs in one batch call (jobs/s, median of ${run.rounds} rounds)`,
      bars: ok
        .filter((r) => r.enqueueSamples && r.enqueueJobsPerSec)
        .map((r) => ({
          label: chartLabel(r),
          value: r.enqueueJobsPerSec!,
          text: Math.round(r.enqueueJobsPerSec!).toLocaleString('en-US'),
          ours: isOurs(r),
        })),
    },
    {
      title: 'Pickup latency, one job at a time: p50 (dark) and p95 (light), ms',
      bars: ok
        .filter((r) => r.latencyP50Ms !== undefined)
        .map((r) => ({
          label: chartLabel(r, r.latencyOf),
          value: r.latencyP50Ms!,
          behind: r.latencyP95Ms,
          text: `${r.latencyP50Ms!.toFixed(1)} / ${r.latencyP95Ms!.toFixed(1)} ms`,
          ours: isOurs(r),
        })),
    },
  ];
  const parts: string[] = [];
  let y = 34;
  parts.push(
    text(
      16,
      22,
      `npm run bench, ${run.startedAt.toISOString().slice(0, 10)}, Node.js ${process.version}. cN: N jobs at once per process. Method: README, Speed`,
      13,
      '#333',
      'bold',
    ),
  );
  for (const panel of panels) {
    if (panel.bars.length === 0) continue;
    y += 24;
    parts.push(text(16, y, panel.title, 13, '#222', 'bold'));
    y += 10;
    const max = Math.max(...panel.bars.map((b) => Math.max(b.value, b.behind ?? 0)));
    const scale = (WIDTH - LABEL_WIDTH - VALUE_WIDTH - 32) / max;
    for (const bar of panel.bars) {
      const x = LABEL_WIDTH + 16;
      parts.push(
        text(LABEL_WIDTH + 8, y + 13, bar.label, 12, bar.ours ? '#123' : '#444', bar.ours ? 'bold' : 'normal', 'end'),
      );
      if (bar.behind !== undefined) parts.push(rect(x, y, bar.behind * scale, BAR_HEIGHT, bar.ours ? P95 : P95_PEER));
      parts.push(rect(x, y, bar.value * scale, BAR_HEIGHT, bar.ours ? OURS : PEER));
      const end = x + Math.max(bar.value, bar.behind ?? 0) * scale;
      parts.push(text(end + 6, y + 13, bar.text, 12, '#222'));
      y += BAR_HEIGHT + ROW_GAP;
    }
  }
  const height = y + 12;
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="Benchmark: burn-down, enqueue and latency per system">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    ...parts,
    '</svg>',
  ].join('\n');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${svg}\n`);
}

function rect(x: number, y: number, width: number, height: number, fill: string): string {
  return `<rect x="${x.toFixed(1)}" y="${y}" width="${Math.max(width, 1).toFixed(1)}" height="${height}" rx="2" fill="${fill}"/>`;
}

function text(
  x: number,
  y: number,
  content: string,
  size: number,
  fill: string,
  weight = 'normal',
  anchor: 'start' | 'end' = 'start',
): string {
  return `<text x="${x.toFixed(1)}" y="${y}" ${FONT} font-size="${size}" font-weight="${weight}" fill="${fill}" text-anchor="${anchor}">${escapeXml(content)}</text>`;
}

function escapeXml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname } from 'node:path';
import type { ClaimCostResult } from './claim-cost';
import type { FloorResult } from './floor';
import type { ScaleOutResult } from './scale-out';
import { SystemResult } from './system';

const BASELINE = /^graphile-worker .*localQueue/;

/** Fills each row's ratios of burn-down and of enqueue to graphile-worker's batched configuration. */
export function addRatios(results: SystemResult[]): void {
  const baseline = results.find((r) => BASELINE.test(r.system));
  if (baseline?.burnDownJobsPerSec) {
    for (const r of results)
      if (r.burnDownJobsPerSec) r.ratioToGraphileBatched = round(r.burnDownJobsPerSec / baseline.burnDownJobsPerSec, 2);
  }
  if (baseline?.enqueueJobsPerSec) {
    // Only the batch calls: an `enqueue()` one at a time is a different operation.
    for (const r of results)
      if (r.enqueueSamples && r.enqueueJobsPerSec)
        r.enqueueRatioToGraphile = round(r.enqueueJobsPerSec / baseline.enqueueJobsPerSec, 2);
  }
}

export function formatTable(results: SystemResult[]): string {
  const header = [
    'system',
    'store',
    'burn-down jobs/s',
    'enqueue jobs/s',
    'latency p50 / p95',
    'peak RSS 1st / all',
    'burn-down vs graphile',
    'enqueue vs graphile',
  ];
  const rows = results.map((r) => [
    r.system,
    r.store,
    r.error ? `FAILED: ${r.error.slice(0, 60)}` : num(r.burnDownJobsPerSec),
    num(r.enqueueJobsPerSec),
    r.latencyP50Ms !== undefined
      ? `${r.latencyP50Ms.toFixed(1)} / ${r.latencyP95Ms!.toFixed(1)} ms${r.latencyOf?.startsWith('form POST') ? ' (form POST)' : ''}`
      : '',
    r.peakRssMiB !== undefined ? `${r.peakRssFirstMiB} / ${r.peakRssMiB} MiB` : '',
    r.ratioToGraphileBatched !== undefined ? `${r.ratioToGraphileBatched.toFixed(2)}x` : '',
    r.enqueueRatioToGraphile !== undefined ? `${r.enqueueRatioToGraphile.toFixed(2)}x` : '',
  ]);
  return markdownTable(header, rows, 2);
}

/**
 * Our worker against the peer that runs as many jobs at once (graphile-worker batched and ours at
 * 24, BullMQ and ours at 50), and enqueueMany against add_jobs: the ratios of this run's medians.
 * Empty when no pair was measured.
 */
export function formatEqualConcurrency(results: SystemResult[]): string {
  const measured = results.filter((r) => !r.error);
  const find = (pattern: RegExp) => measured.find((r) => pattern.test(r.system));
  const graphile = find(BASELINE);
  const oursOnPostgres = (parallel: number) =>
    measured.find((r) => r.system === `ours, MaxParallelJobExecutionCount ${parallel}` && r.store === 'PostgreSQL');
  const ours24 = oursOnPostgres(24);
  const ours50 = oursOnPostgres(50);
  const bullmq50 = find(/^BullMQ .*concurrency 50$/);
  const rows: string[][] = [];
  const pair = (figure: string, ours: string, peer: string, a?: number, b?: number) => {
    if (a && b) rows.push([figure, ours, peer, `${(a / b).toFixed(2)}x`]);
  };
  pair(
    'burn-down',
    'MaxParallelJobExecutionCount 24',
    'graphile-worker batched, concurrency 24',
    ours24?.burnDownJobsPerSec,
    graphile?.burnDownJobsPerSec,
  );
  pair(
    'burn-down',
    'MaxParallelJobExecutionCount 50',
    'BullMQ, concurrency 50',
    ours50?.burnDownJobsPerSec,
    bullmq50?.burnDownJobsPerSec,
  );
  pair(
    'enqueue, one batch call',
    'enqueueMany',
    'graphile-worker add_jobs',
    ours24?.enqueueJobsPerSec,
    graphile?.enqueueJobsPerSec,
  );
  return rows.length === 0 ? '' : markdownTable(['figure', 'ours', 'peer', 'ours / peer'], rows, 3);
}

export function formatScaleOut(results: ScaleOutResult[]): string {
  return markdownTable(
    ['worker processes', 'burn-down jobs/s', 'CPU per job: workers', 'CPU per job: PostgreSQL'],
    results.map((r) => [
      String(r.workers),
      r.error ? `FAILED: ${r.error.slice(0, 60)}` : num(r.burnDownJobsPerSec),
      r.error ? '' : `${r.workerCpuUsPerJob.toFixed(1)} µs`,
      r.error ? '' : `${r.databaseCpuUsPerJob.toFixed(1)} µs`,
    ]),
    1,
  );
}

export function formatClaimCost(results: ClaimCostResult[]): string {
  return markdownTable(
    ['store', 'waiting rows', 'statistics', 'claim of 500 rows p50 / max'],
    results.map((r) => [
      r.store,
      r.waitingRows.toLocaleString('en-US'),
      r.analysed ? 'after ANALYZE' : 'right after the bulk load',
      `${r.claimMsP50.toFixed(1)} / ${r.claimMsMax.toFixed(1)} ms`,
    ]),
    3,
  );
}

/**
 * The machine's own PostgreSQL round trips at the latency probes' pace, what two commits (a
 * pickup's least) add up to, and, with the scale-out figures and graphile-worker's batched row of
 * the same run, how many cores our worker and PostgreSQL would need at twice that row's rate.
 */
export function formatFloor(
  floor: FloorResult,
  results: SystemResult[],
  scaleOut: ScaleOutResult[] | undefined,
): string {
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  const lines = [
    markdownTable(
      ['statement', 'p50', 'p95'],
      [
        ['SELECT 1', ms(floor.selectP50Ms), ms(floor.selectP95Ms)],
        ['a one-row INSERT, committed', ms(floor.commitP50Ms), ms(floor.commitP95Ms)],
      ],
      1,
    ),
    '',
    `A pickup on PostgreSQL waits for two commits before its job can start (the enqueue's INSERT, then the ` +
      `worker's claim): ${ms(2 * floor.commitP50Ms)} of the latencies above at the p50, whichever system runs it.`,
  ];
  const graphile = results.find((r) => !r.error && BASELINE.test(r.system));
  const one = scaleOut?.find((r) => r.workers === 1 && !r.error);
  if (graphile?.burnDownJobsPerSec && one) {
    const rate = 2 * graphile.burnDownJobsPerSec;
    const cores = (rate * (one.workerCpuUsPerJob + one.databaseCpuUsPerJob)) / 1e6;
    lines.push(
      '',
      `At twice graphile-worker batched's burn-down of this run (${num(rate)} jobs/s), one worker process and ` +
        `PostgreSQL at the CPU per job of the scale-out table (${one.workerCpuUsPerJob.toFixed(1)} + ` +
        `${one.databaseCpuUsPerJob.toFixed(1)} µs) would need ${cores.toFixed(1)} cores; this machine has ${cpus().length}.`,
    );
  }
  return lines.join('\n');
}

/** A Markdown table; columns from `rightFrom` on are numbers, aligned right. */
function markdownTable(header: string[], rows: string[][], rightFrom: number): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i >= rightFrom ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i >= rightFrom ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** The run as a whole: its size and when it ran. */
export interface BenchRun {
  jobs: number;
  rounds: number;
  startedAt: Date;
  durationMs: number;
}

export function writeJson(
  file: string,
  run: BenchRun,
  results: SystemResult[],
  scaleOut: ScaleOutResult[] | undefined,
  claimCost: ClaimCostResult[] | undefined,
  floor: FloorResult | undefined,
): void {
  mkdirSync(dirname(file), { recursive: true });
  const doc = {
    date: run.startedAt.toISOString(),
    jobs: run.jobs,
    rounds: run.rounds,
    node: process.version,
    cpus: cpus().length,
    durationSec: Math.round(run.durationMs / 1000),
    method:
      'each system on a fresh database; every figure the median of `rounds` runs; burn-down from the return of one batch insert of N due jobs until the store holds no waiting or running job (polled every 20 ms); ' +
      'enqueue = one batch call into an idle store (pg-boss: inserts of 1000), the systems taking turns round by round; latency = enqueue sent to the job log line time, sequential; peak RSS = VmHWM of the consumer process after its first burn-down / after all rounds',
    results: results.map((r) => ({
      system: r.system,
      store: r.store,
      jobs: r.jobs,
      burnDownJobsPerSec: round(r.burnDownJobsPerSec, 0),
      burnDownMs: r.burnDownMs,
      enqueueJobsPerSec: round(r.enqueueJobsPerSec, 0),
      latencyP50Ms: round(r.latencyP50Ms, 1),
      latencyP95Ms: round(r.latencyP95Ms, 1),
      latencySamples: r.latencySamples,
      latencyOf: r.latencyOf,
      peakRssFirstMiB: r.peakRssFirstMiB,
      peakRssMiB: r.peakRssMiB,
      ratioToGraphileBatched: r.ratioToGraphileBatched,
      enqueueRatioToGraphile: r.enqueueRatioToGraphile,
      burnDownSamples: r.burnDownSamples,
      enqueueSamples: r.enqueueSamples,
      consumerCpuMs: r.consumerCpuMs,
      databaseCpuMs: r.databaseCpuMs,
      benchCpuMs: r.benchCpuMs,
      error: r.error,
    })),
    scaleOut: scaleOut?.map((r) => ({
      ...r,
      burnDownJobsPerSec: round(r.burnDownJobsPerSec, 0),
      workerCpuUsPerJob: round(r.workerCpuUsPerJob, 1),
      databaseCpuUsPerJob: round(r.databaseCpuUsPerJob, 1),
    })),
    claimCost,
    floor: floor && {
      ...floor,
      selectP50Ms: round(floor.selectP50Ms, 2),
      selectP95Ms: round(floor.selectP95Ms, 2),
      commitP50Ms: round(floor.commitP50Ms, 2),
      commitP95Ms: round(floor.commitP95Ms, 2),
    },
  };
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
}

export function num(value: number | undefined): string {
  return value === undefined ? '' : Math.round(value).toLocaleString('en-US');
}

function round(value: number | undefined, digits: number): number | undefined {
  if (value === undefined) return undefined;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

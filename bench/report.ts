import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname } from 'node:path';
import { SystemResult } from './system';

const BASELINE = /^graphile-worker .*localQueue/;

/** Fills each row's ratio of burn-down to graphile-worker's batched configuration. */
export function addRatios(results: SystemResult[]): void {
  const baseline = results.find((r) => BASELINE.test(r.system) && r.burnDownJobsPerSec)?.burnDownJobsPerSec;
  if (!baseline) return;
  for (const r of results)
    if (r.burnDownJobsPerSec) r.ratioToGraphileBatched = round(r.burnDownJobsPerSec / baseline, 2);
}

export function formatTable(results: SystemResult[]): string {
  const header = [
    'system',
    'store',
    'burn-down jobs/s',
    'enqueue jobs/s',
    'latency p50 / p95',
    'peak RSS 1st / all',
    'vs graphile batched',
  ];
  const rows = results.map((r) => [
    r.system,
    r.store,
    r.error ? `FAILED: ${r.error.slice(0, 60)}` : num(r.burnDownJobsPerSec),
    num(r.enqueueJobsPerSec),
    r.latencyP50Ms !== undefined ? `${r.latencyP50Ms.toFixed(1)} / ${r.latencyP95Ms!.toFixed(1)} ms` : '',
    r.peakRssMiB !== undefined ? `${r.peakRssFirstMiB} / ${r.peakRssMiB} MiB` : '',
    r.ratioToGraphileBatched !== undefined ? `${r.ratioToGraphileBatched.toFixed(2)}x` : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i >= 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i >= 2 ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

export function writeJson(
  file: string,
  jobs: number,
  rounds: number,
  results: SystemResult[],
  startedAt: Date,
  durationMs: number,
): void {
  mkdirSync(dirname(file), { recursive: true });
  const doc = {
    date: startedAt.toISOString(),
    jobs,
    rounds,
    node: process.version,
    cpus: cpus().length,
    durationSec: Math.round(durationMs / 1000),
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
      burnDownSamples: r.burnDownSamples,
      enqueueSamples: r.enqueueSamples,
      consumerCpuMs: r.consumerCpuMs,
      databaseCpuMs: r.databaseCpuMs,
      benchCpuMs: r.benchCpuMs,
      error: r.error,
    })),
  };
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
}

function num(value: number | undefined): string {
  return value === undefined ? '' : Math.round(value).toLocaleString('en-US');
}

function round(value: number | undefined, digits: number): number | undefined {
  if (value === undefined) return undefined;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

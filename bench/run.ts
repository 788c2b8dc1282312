/**
 * `npm run bench`: our worker beside graphile-worker, pg-boss and BullMQ, measured the same way
 * (see measure.ts), then how our worker scales out (scale-out.ts) and what a claim costs as the
 * table grows (claim-cost.ts). BENCH_JOBS sets N (default 20000), BENCH_ROUNDS the runs per figure
 * (default 5); BENCH_ONLY=ours,graphile,...,scale-out,claim-cost picks parts. Prints the tables and
 * writes bench/results/latest.json; a run of every part also writes the README's table and
 * docs/bench.svg. BENCH_ONLY=dashboard runs the dashboard section (dashboard.ts), off otherwise.
 * Not part of `npm test`.
 */
import { cleanUpOnSignals, runCleanups } from './support/cleanup';
import { README_FILE, RESULTS_FILE, CHART_FILE } from './support/paths';
import { measureClaimCost, ClaimCostResult } from './claim-cost';
import { FloorResult, measureFloor } from './floor';
import { measureEnqueueRates, measureSystems } from './measure';
import { OursSystem } from './ours';
import { runDashboardBench } from './dashboard';
import { BullmqSystem } from './peers/bullmq';
import { GraphileSystem } from './peers/graphile';
import { PgBossSystem } from './peers/pg-boss';
import {
  addRatios,
  formatClaimCost,
  formatEqualConcurrency,
  formatFloor,
  formatScaleOut,
  formatTable,
  writeJson,
} from './report';
import { writeChart } from './chart';
import { updateReadmeTable } from './readme-table';
import { measureScaleOut, ScaleOutResult } from './scale-out';
import { SystemResult, SystemUnderTest } from './system';

const PARALLEL = 24;

/** `keys`: the names BENCH_ONLY picks the row by (a system's name, or one configuration of it). */
function systems(): Array<{ keys: string[]; make: () => SystemUnderTest; latency?: boolean }> {
  return [
    { keys: ['graphile', 'graphile-batched'], make: () => new GraphileSystem({ concurrency: 24, batched: true }) },
    {
      keys: ['graphile', 'graphile-defaults'],
      make: () => new GraphileSystem({ concurrency: 10, batched: false }),
      latency: true,
    },
    { keys: ['ours'], make: () => new OursSystem({ store: 'PostgreSQL', parallel: PARALLEL }), latency: true },
    // BullMQ c50's counterpart: the same number of jobs at once (see formatEqualConcurrency).
    { keys: ['ours-c50'], make: () => new OursSystem({ store: 'PostgreSQL', parallel: 50 }) },
    // The default JobPollPeriod (5 s), as `npm start` runs it: the WAL watch brings jobs in.
    { keys: ['ours-sqlite'], make: () => new OursSystem({ store: 'SQLite', parallel: PARALLEL }), latency: true },
    {
      keys: ['pg-boss'],
      make: () => new PgBossSystem({ workers: 4, batchSize: 1000, pollingIntervalSeconds: 0.5 }),
    },
    { keys: ['bullmq', 'bullmq-c10'], make: () => new BullmqSystem({ concurrency: 10 }) },
    { keys: ['bullmq', 'bullmq-c50'], make: () => new BullmqSystem({ concurrency: 50 }) },
  ];
}

const EXTRA_PARTS = ['scale-out', 'claim-cost', 'floor'];

/** The latency probes' pause between samples, which the floor's statements keep too. */
const LATENCY_PAUSE_MS = 20;

function positiveInteger(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`${name} must be a positive whole number, got ${process.env[name]}`);
  return value;
}

function integerList(name: string, fallback: string): number[] {
  const values = (process.env[name] ?? fallback).split(',').map((s) => Number(s.trim()));
  if (values.some((v) => !Number.isInteger(v) || v <= 0))
    throw new Error(`${name} must be a comma list of positive whole numbers, got ${process.env[name]}`);
  return values;
}

async function main(): Promise<void> {
  cleanUpOnSignals();
  const jobs = positiveInteger('BENCH_JOBS', 20_000);
  const rounds = positiveInteger('BENCH_ROUNDS', 5);
  const asked = (process.env.BENCH_ONLY ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const log = (message: string) => process.stderr.write(`${message}\n`);
  // The dashboard section runs only when asked for (BENCH_ONLY=dashboard), and alone unless others are named.
  if (asked.includes('dashboard')) {
    try {
      await runDashboardBench(log);
    } finally {
      await runCleanups();
    }
    if (asked.length === 1) return;
  }
  const only = asked.filter((key) => key !== 'dashboard');
  const wanted = (key: string) => only.length === 0 || only.includes(key);
  const latencySamples = Number(process.env.BENCH_LATENCY_SAMPLES ?? 200);
  const scaleOutWorkers = integerList('BENCH_SCALE_OUT_WORKERS', '1,2,4');
  const claimCostRows = integerList('BENCH_CLAIM_ROWS', '10000,1000000');
  const startedAt = new Date();
  const results: SystemResult[] = [];
  let scaleOut: ScaleOutResult[] | undefined;
  let claimCost: ClaimCostResult[] | undefined;
  let floor: FloorResult | undefined;
  try {
    const entries = systems().filter((entry) => entry.keys.some(wanted));
    if (entries.length === 0 && !EXTRA_PARTS.some(wanted))
      throw new Error(`BENCH_ONLY=${process.env.BENCH_ONLY} names no system or part`);
    const options = (entry: (typeof entries)[number]) => ({
      jobs,
      rounds,
      latencySamples: entry.latency ? latencySamples : 0,
      latencyPauseMs: LATENCY_PAUSE_MS,
      burnDownTimeoutMs: Math.max(60_000, jobs * 5),
      log,
    });
    const prepared: Array<{ entry: (typeof entries)[number]; sut: SystemUnderTest }> = [];
    for (const entry of entries) {
      const sut = entry.make();
      try {
        await sut.prepare();
        prepared.push({ entry, sut });
      } catch (error) {
        log(`${sut.system}: prepare FAILED: ${String(error)}`);
        results.push({
          system: sut.system,
          store: sut.store,
          jobs,
          error: `prepare: ${error instanceof Error ? error.message : String(error)}`,
        });
        await sut.dispose().catch(() => undefined);
      }
    }
    if (prepared.length > 0) {
      log(`enqueue rates, ${rounds} rounds, systems taking turns`);
      const rates = await measureEnqueueRates(
        prepared.map((p) => p.sut),
        options(entries[0]),
      );
      log(`burn-downs of ${jobs} jobs, ${rounds} rounds, systems taking turns`);
      results.push(
        ...(await measureSystems(
          prepared.map(({ entry, sut }) => ({ sut, options: options(entry), enqueueRates: rates.get(sut)! })),
        )),
      );
    }
    if (wanted('scale-out')) {
      scaleOut = await measureScaleOut(scaleOutWorkers, {
        jobs,
        rounds: Math.min(rounds, 3),
        parallel: PARALLEL,
        burnDownTimeoutMs: Math.max(60_000, jobs * 5),
        log,
      });
    }
    if (wanted('floor')) {
      floor = await measureFloor({ samples: Math.max(latencySamples, 100), pauseMs: LATENCY_PAUSE_MS, log });
    }
    if (wanted('claim-cost')) {
      claimCost = await measureClaimCost({ sizes: claimCostRows, stores: ['PostgreSQL', 'SQLite'], log });
    }
  } finally {
    await runCleanups();
  }
  addRatios(results);
  const sections = [
    `\n${jobs} jobs, each writing one JSON log line; median of ${rounds} rounds; ${process.version}`,
    results.length > 0 ? formatTable(results) : '',
    formatEqualConcurrency(results),
    scaleOut
      ? `\nScale-out on PostgreSQL (MaxParallelJobExecutionCount ${PARALLEL} per process)\n${formatScaleOut(scaleOut)}`
      : '',
    claimCost ? `\nClaim cost as the table grows\n${formatClaimCost(claimCost)}` : '',
    floor ? `\nPostgreSQL's own round trips at the latency probes' pace\n${formatFloor(floor, results, scaleOut)}` : '',
  ];
  process.stdout.write(`${sections.filter(Boolean).join('\n')}\n`);
  const run = { jobs, rounds, startedAt, durationMs: Date.now() - startedAt.getTime() };
  writeJson(RESULTS_FILE, run, results, scaleOut, claimCost, floor);
  process.stdout.write(`written to ${RESULTS_FILE}\n`);
  const complete = only.length === 0 && results.length > 0 && !results.some((r) => r.error);
  if (complete) {
    writeChart(CHART_FILE, results, run);
    updateReadmeTable(README_FILE, results, scaleOut, claimCost, floor, run);
    process.stdout.write(`written to ${CHART_FILE} and the table in ${README_FILE}\n`);
  }
  if (results.some((r) => r.error) || scaleOut?.some((r) => r.error)) process.exitCode = 1;
}

main().catch(async (error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  await runCleanups();
  process.exit(1);
});

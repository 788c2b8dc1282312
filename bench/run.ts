/**
 * `npm run bench`: our worker beside graphile-worker, pg-boss and BullMQ, measured the same way
 * (see measure.ts). BENCH_JOBS sets N (default 20000), BENCH_ROUNDS the runs per figure (default 5); BENCH_ONLY=ours,graphile,... picks systems;
 * BENCH_ONLY=dashboard runs the dashboard section (dashboard.ts), off otherwise.
 * Prints one table and writes bench/results/latest.json. Not part of `npm test`.
 */
import { cleanUpOnSignals, runCleanups } from './support/cleanup';
import { RESULTS_FILE } from './support/paths';
import { measure, measureEnqueueRates } from './measure';
import { OursSystem } from './ours';
import { runDashboardBench } from './dashboard';
import { BullmqSystem } from './peers/bullmq';
import { GraphileSystem } from './peers/graphile';
import { PgBossSystem } from './peers/pg-boss';
import { addRatios, formatTable, writeJson } from './report';
import { SystemResult, SystemUnderTest } from './system';

function systems(): Array<{ key: string; make: () => SystemUnderTest; latency?: boolean }> {
  return [
    { key: 'graphile', make: () => new GraphileSystem({ concurrency: 24, batched: true }) },
    { key: 'graphile', make: () => new GraphileSystem({ concurrency: 10, batched: false }), latency: true },
    { key: 'ours', make: () => new OursSystem({ store: 'PostgreSQL', parallel: 24 }), latency: true },
    { key: 'ours-sqlite', make: () => new OursSystem({ store: 'SQLite', parallel: 24, pollPeriodMs: 500 }) },
    { key: 'pg-boss', make: () => new PgBossSystem({ workers: 4, batchSize: 1000, pollingIntervalSeconds: 0.5 }) },
    { key: 'bullmq', make: () => new BullmqSystem({ concurrency: 10 }) },
    { key: 'bullmq', make: () => new BullmqSystem({ concurrency: 50 }) },
  ];
}

async function main(): Promise<void> {
  cleanUpOnSignals();
  const jobs = Number(process.env.BENCH_JOBS ?? 20_000);
  if (!Number.isInteger(jobs) || jobs <= 0)
    throw new Error(`BENCH_JOBS must be a positive whole number, got ${process.env.BENCH_JOBS}`);
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
  const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
  if (!Number.isInteger(rounds) || rounds <= 0)
    throw new Error(`BENCH_ROUNDS must be a positive whole number, got ${process.env.BENCH_ROUNDS}`);
  const latencySamples = Number(process.env.BENCH_LATENCY_SAMPLES ?? 200);
  const startedAt = new Date();
  const results: SystemResult[] = [];
  try {
    const entries = systems().filter((entry) => only.length === 0 || only.includes(entry.key));
    if (entries.length === 0) throw new Error(`BENCH_ONLY=${process.env.BENCH_ONLY} names no system`);
    const options = (entry: (typeof entries)[number]) => ({
      jobs,
      rounds,
      latencySamples: entry.latency ? latencySamples : 0,
      latencyPauseMs: 20,
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
    log(`enqueue rates, ${rounds} rounds, systems taking turns`);
    const rates = await measureEnqueueRates(
      prepared.map((p) => p.sut),
      options(entries[0]),
    );
    for (const { entry, sut } of prepared) {
      log(`${sut.system} (${sut.store}), ${jobs} jobs`);
      results.push(...(await measure(sut, rates.get(sut)!, options(entry))));
    }
  } finally {
    await runCleanups();
  }
  addRatios(results);
  const table = formatTable(results);
  process.stdout.write(
    `\n${jobs} jobs, each writing one JSON log line; median of ${rounds} rounds; ${process.version}\n${table}\n`,
  );
  writeJson(RESULTS_FILE, jobs, rounds, results, startedAt, Date.now() - startedAt.getTime());
  process.stdout.write(`written to ${RESULTS_FILE}\n`);
  if (results.some((r) => r.error)) process.exitCode = 1;
}

main().catch(async (error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  await runCleanups();
  process.exit(1);
});

import type { NodeProcess } from '../test/support/node-process';
import { sleep, waitFor } from '../test/support/wait-for';
import { clockMs, JobLineCount, stopBenchProcess } from './support/processes';
import { jobLineTime } from './job-log';
import { commandCpuMs, cpuBetween, peakRssMiB, processCpuMs } from './support/cpu';
import { LatencyProbe, SystemResult, SystemUnderTest } from './system';

export interface MeasureOptions {
  jobs: number;
  /** Enqueue-rate and burn-down runs per system; the row shows the median, the JSON every run. */
  rounds: number;
  latencySamples: number;
  /** Pause between latency samples. */
  latencyPauseMs: number;
  /** Give up on a burn-down after this long. */
  burnDownTimeoutMs: number;
  log: (message: string) => void;
}

const POLL_MS = 20;

/**
 * The same procedure for every system, each on its own fresh database:
 * 1. enqueue rate (measureEnqueueRates, every system prepared first): the batch call with nothing
 *    consuming, then the jobs are deleted; `rounds` times, the systems taking turns, so a slow
 *    spell of the database server (a checkpoint, autovacuum) falls on all of them alike;
 * 2. burn-down: start the consumer and wait until it is idle, then `rounds` times: one batch insert
 *    of N due jobs, clock from the insert's return until the store holds no waiting or running job
 *    (polled every 20 ms);
 * 3. peak RSS of the consumer process (VmHWM) after the first burn-down and after all of them;
 * 4. latency (where the system has it): enqueue one job, read its start time from the consumer's
 *    JSON log line `time`, sequentially with a short pause.
 * Enqueue and burn-down figures are the median of their rounds: one run on 2 shared cores swings
 * by 20% or more.
 */
export async function measureEnqueueRates(
  suts: SystemUnderTest[],
  options: MeasureOptions,
): Promise<Map<SystemUnderTest, number[]>> {
  const rates = new Map(suts.map((sut) => [sut, [] as number[]]));
  for (let round = 0; round < options.rounds; round++) {
    for (let i = 0; i < suts.length; i++) {
      const sut = suts[(i + round) % suts.length];
      const started = clockMs();
      await (sut.enqueueForRate ?? sut.enqueueBatch).call(sut, contents(options.jobs, `enqueue${round}`));
      rates.get(sut)!.push(options.jobs / ((clockMs() - started) / 1000));
      await sut.clear();
    }
  }
  for (const [sut, samples] of rates)
    options.log(`${sut.system}: enqueue jobs/s ${samples.map(Math.round).join(', ')}`);
  return rates;
}

/** Steps 2-4 for a prepared system whose enqueue rates were measured; disposes of it. */
export async function measure(
  sut: SystemUnderTest,
  enqueueRates: number[],
  options: MeasureOptions,
): Promise<SystemResult[]> {
  const { jobs, log } = options;
  const result: SystemResult = { system: sut.system, store: sut.store, jobs };
  const results = [result];
  let consumer: NodeProcess | undefined;
  try {
    result.enqueueSamples = enqueueRates.map(Math.round);
    result.enqueueJobsPerSec = median(enqueueRates);
    if (sut.singleEnqueueRate) {
      const count = Math.min(1000, jobs);
      results.push({
        system: `${sut.system}: enqueue() one at a time`,
        store: sut.store,
        jobs: count,
        enqueueJobsPerSec: await sut.singleEnqueueRate(count),
      });
    }

    consumer = await sut.startConsumer();
    const jobLines = new JobLineCount(consumer);
    const burnDowns: Array<Pick<SystemResult, 'burnDownMs' | 'consumerCpuMs' | 'databaseCpuMs' | 'benchCpuMs'>> = [];
    for (let round = 0; round < options.rounds; round++) {
      jobLines.value = 0;
      await sut.enqueueBatch(contents(jobs, `burn${round}`));
      const started = clockMs();
      const cpuBefore = cpuSnapshot(consumer.pid, sut.store);
      let left = jobs;
      await waitFor(
        'the burn-down',
        async () => (left = await sut.remaining()) === 0,
        options.burnDownTimeoutMs,
        POLL_MS,
      ).catch(() => {
        throw new Error(`burn-down not finished after ${options.burnDownTimeoutMs} ms: ${left} of ${jobs} jobs left`);
      });
      const elapsed = clockMs() - started;
      const run = { burnDownMs: Math.round(elapsed), ...cpuSince(cpuBefore, consumer.pid, sut.store) };
      burnDowns.push(run);
      if (round === 0) result.peakRssFirstMiB = peakRssMiB(consumer.pid);
      // The last lines may still be in the pipe.
      await waitFor(`${jobs} job lines`, () => jobLines.value >= jobs, 1000, 10).catch(() => {
        throw new Error(`round ${round}: ${jobLines.value} job lines seen for ${jobs} jobs`);
      });
      log(
        `  burn-down ${run.burnDownMs} ms, ${Math.round(jobs / (elapsed / 1000))} jobs/s, ${jobLines.value} job lines; ` +
          `CPU ms: consumer ${run.consumerCpuMs}, database ${run.databaseCpuMs ?? '-'}, bench ${run.benchCpuMs}`,
      );
    }
    const middle = medianBy(burnDowns, (b) => b.burnDownMs!);
    Object.assign(result, middle);
    result.burnDownJobsPerSec = jobs / (middle.burnDownMs! / 1000);
    result.burnDownSamples = burnDowns.map((b) => Math.round(jobs / (b.burnDownMs! / 1000)));
    result.peakRssMiB = peakRssMiB(consumer.pid);
    log(`  median burn-down ${Math.round(result.burnDownJobsPerSec)} jobs/s, peak RSS ${result.peakRssMiB} MiB`);

    const probes = options.latencySamples > 0 ? (sut.latencyProbes?.() ?? []) : [];
    for (const [index, probe] of probes.entries()) {
      const row: SystemResult =
        index === 0
          ? result
          : { system: `${sut.system}: ${probe.label}`, store: sut.store, jobs: options.latencySamples };
      if (index > 0) results.push(row);
      const latencies = await measureLatency(probe, consumer, options);
      row.latencyOf = probe.label;
      row.latencySamples = latencies.length;
      row.latencyP50Ms = percentile(latencies, 50);
      row.latencyP95Ms = percentile(latencies, 95);
      log(
        `  latency (${probe.label}) p50 ${row.latencyP50Ms.toFixed(1)} ms, p95 ${row.latencyP95Ms.toFixed(1)} ms over ${latencies.length}`,
      );
    }
  } catch (error) {
    result.error = error instanceof Error ? error.message : String(error);
    log(`  FAILED: ${result.error}`);
  } finally {
    if (consumer) await stopBenchProcess(consumer).catch(() => undefined);
    await sut.dispose().catch((error: unknown) => log(`  dispose failed: ${String(error)}`));
  }
  return results;
}

async function measureLatency(probe: LatencyProbe, consumer: NodeProcess, options: MeasureOptions): Promise<number[]> {
  const latencies: number[] = [];
  const run = Date.now().toString(36);
  for (let i = 0; i < options.latencySamples; i++) {
    const content = `lat-${run}-${i}`;
    let unwatch = () => {};
    let timer: NodeJS.Timeout | undefined;
    const startedAt = new Promise<number>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`job ${content} did not start within 10 s`)), 10_000);
      unwatch = consumer.watch((line) => {
        const time = jobLineTime(line, content);
        if (time !== undefined) resolve(time);
      });
    });
    startedAt.catch(() => undefined); // awaited below; never an unhandled rejection
    try {
      const sent = await probe.enqueue(content);
      latencies.push((await startedAt) - sent);
    } finally {
      clearTimeout(timer);
      unwatch();
    }
    await sleep(options.latencyPauseMs);
  }
  return latencies;
}

function contents(count: number, tag: string): string[] {
  return Array.from({ length: count }, (_, i) => `${tag}-${i}`);
}

/** The middle item by `key` (the lower middle of an even count, so it is always a measured one). */
function medianBy<T>(items: T[], key: (item: T) => number): T {
  return [...items].sort((a, b) => key(a) - key(b))[Math.floor((items.length - 1) / 2)];
}

function median(values: number[]): number {
  return medianBy(values, (v) => v);
}

/** Nearest-rank percentile. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const DATABASE_COMMANDS: Record<string, string[]> = { PostgreSQL: ['postgres'], Redis: ['redis-server'], SQLite: [] };

interface CpuSnapshot {
  consumer: number;
  database: Map<number, number>;
  bench: NodeJS.CpuUsage;
}

/** Where the burn-down's CPU goes: the consumer process, the database server, this process (polling, reading logs). */
function cpuSnapshot(consumerPid: number, store: string): CpuSnapshot {
  return {
    consumer: processCpuMs(consumerPid) ?? 0,
    database: commandCpuMs(DATABASE_COMMANDS[store] ?? []),
    bench: process.cpuUsage(),
  };
}

function cpuSince(
  before: CpuSnapshot,
  consumerPid: number,
  store: string,
): Pick<SystemResult, 'consumerCpuMs' | 'databaseCpuMs' | 'benchCpuMs'> {
  const commands = DATABASE_COMMANDS[store] ?? [];
  const bench = process.cpuUsage(before.bench);
  return {
    consumerCpuMs: (processCpuMs(consumerPid) ?? before.consumer) - before.consumer,
    databaseCpuMs: commands.length > 0 ? cpuBetween(before.database, commandCpuMs(commands)) : undefined,
    benchCpuMs: Math.round((bench.user + bench.system) / 1000),
  };
}

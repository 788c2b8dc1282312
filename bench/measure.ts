import type { NodeProcess } from '../test/support/node-process';
import { sleep, waitFor } from '../test/support/wait-for';
import { clockMs, JobLineCount, stopBenchProcess } from './support/processes';
import { jobLineTime } from './job-log';
import { commandCpuMs, cpuBetween, peakRssMiB, POSTGRES_COMMANDS, processCpuMs } from './support/cpu';
import { settlePostgres } from './support/postgres';
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
 * 2. burn-down (measureSystems): every consumer is started and runs one burn-down that is not
 *    counted (its code warm, as in a worker that has been up a while), then `rounds` times, the
 *    systems again taking turns: one batch insert of N due jobs into one system, clock from the
 *    insert's return until its store holds no waiting or running job (polled every 20 ms). The
 *    other consumers are paused (SIGSTOP) meanwhile: an idle consumer still polls its database
 *    (pg-boss's four workers every 0.5 s), and that must not count against the system being
 *    measured. Before each burn-down PostgreSQL is settled (settlePostgres: VACUUM, CHECKPOINT,
 *    quiet): in a fixed turn order the autovacuum and checkpoint that one system's round leaves
 *    behind would otherwise fall on the same next system every round;
 * 3. peak RSS of each consumer process (VmHWM) after its first burn-down and after all of them;
 * 4. latency (where the system has it): enqueue one job, read its start time from the consumer's
 *    JSON log line `time`, sequentially with a short pause.
 * Enqueue and burn-down figures are the median of their rounds: one run on 2 shared cores swings
 * by 20% or more, and a change of the machine's load during the run falls on every system.
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

type BurnDownRound = Pick<SystemResult, 'burnDownMs' | 'consumerCpuMs' | 'databaseCpuMs' | 'benchCpuMs'>;

/** One system while it is measured: its rows of the table, its consumer, its rounds so far. */
interface Measured {
  sut: SystemUnderTest;
  options: MeasureOptions;
  result: SystemResult;
  rows: SystemResult[];
  consumer?: NodeProcess;
  jobLines?: JobLineCount;
  rounds: BurnDownRound[];
}

/** Steps 2-4 for prepared systems whose enqueue rates were measured; disposes of them. */
export async function measureSystems(
  systems: Array<{ sut: SystemUnderTest; options: MeasureOptions; enqueueRates: number[] }>,
): Promise<SystemResult[]> {
  const measured: Measured[] = systems.map(({ sut, options, enqueueRates }) => {
    const result: SystemResult = {
      system: sut.system,
      store: sut.store,
      jobs: options.jobs,
      enqueueSamples: enqueueRates.map(Math.round),
      enqueueJobsPerSec: median(enqueueRates),
    };
    return { sut, options, result, rows: [result], rounds: [] };
  });
  const failed = (m: Measured, error: unknown) => {
    m.result.error = error instanceof Error ? error.message : String(error);
    m.options.log(`  ${m.sut.system} (${m.sut.store}) FAILED: ${m.result.error}`);
  };
  try {
    for (const m of measured) {
      try {
        if (m.sut.singleEnqueueRate) {
          const count = Math.min(1000, m.options.jobs);
          m.rows.push({
            system: `${m.sut.system}: enqueue() one at a time`,
            store: m.sut.store,
            jobs: count,
            enqueueJobsPerSec: await m.sut.singleEnqueueRate(count),
          });
        }
        m.consumer = await m.sut.startConsumer();
        m.jobLines = new JobLineCount(m.consumer);
      } catch (error) {
        failed(m, error);
      }
    }
    // One burn-down per system first, not counted: every consumer's code runs warm (JIT-compiled) in
    // the rounds that are, as in a worker that has been up for a while.
    for (const m of measured) {
      if (m.result.error || !m.consumer) continue;
      try {
        await withOthersPaused(measured, m, () => burnDownRound(m, WARM_UP));
      } catch (error) {
        failed(m, error);
      }
    }
    const rounds = Math.max(...measured.map((m) => m.options.rounds));
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < measured.length; i++) {
        const m = measured[(i + round) % measured.length];
        if (m.result.error || !m.consumer || round >= m.options.rounds) continue;
        try {
          await withOthersPaused(measured, m, () => burnDownRound(m, round));
        } catch (error) {
          failed(m, error);
        }
      }
    }
    for (const m of measured) {
      if (m.result.error || !m.consumer) continue;
      const { jobs, log } = m.options;
      const middle = medianBy(m.rounds, (b) => b.burnDownMs!);
      Object.assign(m.result, middle);
      m.result.burnDownJobsPerSec = jobs / (middle.burnDownMs! / 1000);
      m.result.burnDownSamples = m.rounds.map((b) => Math.round(jobs / (b.burnDownMs! / 1000)));
      m.result.peakRssMiB = peakRssMiB(m.consumer.pid);
      log(
        `${m.sut.system} (${m.sut.store}): median burn-down ${Math.round(m.result.burnDownJobsPerSec)} jobs/s, peak RSS ${m.result.peakRssMiB} MiB`,
      );
      try {
        await withOthersPaused(measured, m, () => measureLatencies(m));
      } catch (error) {
        failed(m, error);
      }
    }
  } finally {
    for (const m of measured) {
      if (m.consumer) await stopBenchProcess(m.consumer).catch(() => undefined);
      await m.sut.dispose().catch((error: unknown) => m.options.log(`  dispose failed: ${String(error)}`));
    }
  }
  return measured.flatMap((m) => m.rows);
}

/** Runs `work` with every other system's consumer stopped (SIGSTOP), and continues them after. */
async function withOthersPaused<T>(measured: Measured[], running: Measured, work: () => Promise<T>): Promise<T> {
  const others = measured.filter((m) => m !== running && m.consumer?.running);
  for (const m of others) m.consumer!.child.kill('SIGSTOP');
  try {
    return await work();
  } finally {
    for (const m of others) m.consumer!.child.kill('SIGCONT');
  }
}

/** The round number of the uncounted first burn-down. */
const WARM_UP = -1;

async function burnDownRound(m: Measured, round: number): Promise<void> {
  const { sut, options, jobLines, consumer } = m;
  const { jobs, log } = options;
  const name = round === WARM_UP ? 'warm-up' : `round ${round + 1}`;
  jobLines!.value = 0;
  if (!(await settlePostgres())) log(`  PostgreSQL still busy after 20 s of settling, before ${sut.system} ${name}`);
  await sut.enqueueBatch(contents(jobs, `burn${round}`));
  const started = clockMs();
  const cpuBefore = cpuSnapshot(consumer!.pid, sut.store);
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
  const run = { burnDownMs: Math.round(elapsed), ...cpuSince(cpuBefore, consumer!.pid, sut.store) };
  // "Peak RSS 1st": after the consumer's first burn-down, the warm-up.
  if (round === WARM_UP) m.result.peakRssFirstMiB = peakRssMiB(consumer!.pid);
  else m.rounds.push(run);
  // The last lines may still be in the pipe.
  await waitFor(`${jobs} job lines`, () => jobLines!.value >= jobs, 1000, 10).catch(() => {
    throw new Error(`${name}: ${jobLines!.value} job lines seen for ${jobs} jobs`);
  });
  log(
    `${sut.system} (${sut.store}) ${name}: burn-down ${run.burnDownMs} ms, ${Math.round(jobs / (elapsed / 1000))} jobs/s, ` +
      `${jobLines!.value} job lines; CPU ms: consumer ${run.consumerCpuMs}, database ${run.databaseCpuMs ?? '-'}, bench ${run.benchCpuMs}`,
  );
}

async function measureLatencies(m: Measured): Promise<void> {
  const { sut, options } = m;
  const probes = options.latencySamples > 0 ? (sut.latencyProbes?.() ?? []) : [];
  for (const [index, probe] of probes.entries()) {
    const row: SystemResult =
      index === 0
        ? m.result
        : { system: `${sut.system}: ${probe.label}`, store: sut.store, jobs: options.latencySamples };
    if (index > 0) m.rows.push(row);
    const latencies = await measureLatency(probe, m.consumer!, options);
    row.latencyOf = probe.label;
    row.latencySamples = latencies.length;
    row.latencyP50Ms = percentile(latencies, 50);
    row.latencyP95Ms = percentile(latencies, 95);
    options.log(
      `  latency (${probe.label}) p50 ${row.latencyP50Ms.toFixed(1)} ms, p95 ${row.latencyP95Ms.toFixed(1)} ms over ${latencies.length}`,
    );
  }
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

const DATABASE_COMMANDS: Record<string, string[]> = {
  PostgreSQL: POSTGRES_COMMANDS,
  Redis: ['redis-server'],
  SQLite: [],
};

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

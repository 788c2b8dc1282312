import type { NodeProcess } from '../test/support/node-process';
import { waitFor } from '../test/support/wait-for';
import { OursSystem } from './ours';
import { commandCpuMs, cpuBetween, POSTGRES_COMMANDS, processCpuMs } from './support/cpu';
import { clockMs, JobLineCount, stopBenchProcess } from './support/processes';

export interface ScaleOutResult {
  workers: number;
  jobs: number;
  /** Median of the rounds. */
  burnDownJobsPerSec: number;
  burnDownSamples: number[];
  /** CPU per job in the median round: all worker processes together, and the database server. */
  workerCpuUsPerJob: number;
  databaseCpuUsPerJob: number;
  error?: string;
}

export interface ScaleOutOptions {
  jobs: number;
  rounds: number;
  parallel: number;
  burnDownTimeoutMs: number;
  log: (message: string) => void;
}

/**
 * Burn-down on PostgreSQL with 1, 2, 4 ... worker processes (MaxParallelJobExecutionCount
 * `parallel` each) on one fresh database per count: the same procedure as the main burn-down,
 * plus the CPU every worker process and the database server used, per job. On a machine with
 * fewer cores than processes the figure shows what more processes cost, not what they gain.
 */
export async function measureScaleOut(counts: number[], options: ScaleOutOptions): Promise<ScaleOutResult[]> {
  const results: ScaleOutResult[] = [];
  for (const count of counts) {
    const sut = new OursSystem({ store: 'PostgreSQL', parallel: options.parallel });
    const result: ScaleOutResult = {
      workers: count,
      jobs: options.jobs,
      burnDownJobsPerSec: 0,
      burnDownSamples: [],
      workerCpuUsPerJob: 0,
      databaseCpuUsPerJob: 0,
    };
    options.log(`scale-out: ${count} worker process(es), ${options.jobs} jobs`);
    const workers: NodeProcess[] = [];
    try {
      await sut.prepare();
      workers.push(...(await sut.startWorkers(count)));
      const lines = workers.map((w) => new JobLineCount(w));
      const rounds: Array<{ ms: number; workerCpu: number; databaseCpu: number }> = [];
      for (let round = 0; round < options.rounds; round++) {
        for (const l of lines) l.value = 0;
        await sut.enqueueBatch(Array.from({ length: options.jobs }, (_, i) => `scale${count}-${round}-${i}`));
        const started = clockMs();
        const workerCpu = () => workers.reduce((sum, w) => sum + (processCpuMs(w.pid) ?? 0), 0);
        const cpuBefore = workerCpu();
        const dbBefore = commandCpuMs(POSTGRES_COMMANDS);
        await waitFor('the burn-down', async () => (await sut.remaining()) === 0, options.burnDownTimeoutMs, 20);
        const ms = clockMs() - started;
        rounds.push({
          ms,
          workerCpu: workerCpu() - cpuBefore,
          databaseCpu: cpuBetween(dbBefore, commandCpuMs(POSTGRES_COMMANDS)),
        });
        await waitFor('every job line', () => lines.reduce((n, l) => n + l.value, 0) >= options.jobs, 2000, 10);
        const perWorker = lines.map((l) => l.value).join('/');
        options.log(
          `  burn-down ${Math.round(ms)} ms, ${Math.round(options.jobs / (ms / 1000))} jobs/s; jobs per worker ${perWorker}`,
        );
      }
      const median = [...rounds].sort((a, b) => a.ms - b.ms)[Math.floor((rounds.length - 1) / 2)];
      result.burnDownJobsPerSec = options.jobs / (median.ms / 1000);
      result.burnDownSamples = rounds.map((r) => Math.round(options.jobs / (r.ms / 1000)));
      result.workerCpuUsPerJob = (median.workerCpu * 1000) / options.jobs;
      result.databaseCpuUsPerJob = (median.databaseCpu * 1000) / options.jobs;
    } catch (error) {
      result.error = error instanceof Error ? error.message : String(error);
      options.log(`  FAILED: ${result.error}`);
    } finally {
      await Promise.all(workers.map((w) => stopBenchProcess(w).catch(() => undefined)));
      await sut.dispose().catch(() => undefined);
    }
    results.push(result);
  }
  return results;
}

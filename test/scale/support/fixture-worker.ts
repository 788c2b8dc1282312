import { resolve } from 'node:path';
import { NodeProcess } from '../../support/node-process';

const FIXTURE = resolve(__dirname, '../../fixtures/fixture-worker.js');

/** Settings as the worker reads them, without the `AbpBackgroundJobWorker__` prefix. */
export type WorkerSettings = Record<string, string | number>;

/**
 * A fixture worker (test/fixtures/fixture-worker.js on dist/) as a child process, in an empty
 * temporary folder so no `.env` can change its settings. Not yet waited for: see `untilPolling`.
 */
export function spawnFixtureWorker(connectionString: string, settings: WorkerSettings = {}): NodeProcess {
  const env: Record<string, string> = {
    ConnectionStrings__AbpBackgroundJobs: connectionString,
    Logging__Format: 'json',
    Logging__Level: 'info',
  };
  for (const [key, value] of Object.entries(settings)) env[`AbpBackgroundJobWorker__${key}`] = String(value);
  return new NodeProcess({ name: 'fixture worker', script: FIXTURE, env });
}

/**
 * Resolves once the worker has started polling. One that started and then died at once (a job
 * that kills it) counts as started: its "Worker started" line is read before it counts as closed.
 */
export async function untilPolling(worker: NodeProcess, timeoutMs = 20_000): Promise<NodeProcess> {
  await worker.waitForLog((l) => l.msg.startsWith('Worker started'), timeoutMs);
  return worker;
}

/** How many times each job id started, across all workers. */
export function executionsById(workers: NodeProcess[], msg = 'fixture-started'): Map<string, number> {
  const counts = new Map<string, number>();
  for (const w of workers)
    for (const l of w.lines) if (l.msg === msg && l.jobId) counts.set(l.jobId, (counts.get(l.jobId) ?? 0) + 1);
  return counts;
}

/**
 * How long the worker's own stop took: from its "Stopping" line to its "Worker stopped" line, by
 * the times pino wrote on them, so the signal's delivery and the process's exit do not count.
 */
export function stopDurationMs(worker: NodeProcess): number {
  const at = (prefix: string) => {
    const time = worker.linesMatching((l) => l.msg.startsWith(prefix))[0]?.time;
    if (time === undefined) throw new Error(`the worker never logged "${prefix}…"\n${worker.output()}`);
    return time;
  };
  return at('Worker stopped') - at('Stopping');
}

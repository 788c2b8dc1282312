import { NodeProcess, NodeProcessOptions } from '../../test/support/node-process';
import { onCleanup } from './cleanup';
import { REPO } from './paths';

/** The marker every job's log line carries, ours and the peers' alike. */
export const JOB_LINE_MARKER = 'Executing MyReportJob with args: ';

/**
 * A child node process of the bench (the shared wrapper of the tests), in the repository, stopped
 * at cleanup if nothing stopped it before. Its stdout is only watched, never kept: a consumer
 * writes one line per job.
 */
export function startBenchProcess(options: Omit<NodeProcessOptions, 'cwd' | 'keepOutput'>): NodeProcess {
  const child = new NodeProcess({ ...options, cwd: REPO, keepOutput: false });
  onCleanup(`stop ${options.name}`, () => stopBenchProcess(child));
  return child;
}

/** SIGTERM (a clean stop), then SIGKILL after 8 s. */
export async function stopBenchProcess(child: NodeProcess): Promise<void> {
  await child.stop('SIGTERM', 8000);
}

/** Counts a consumer's job lines as they arrive; the burn-down sets `value` to 0 before each round. */
export class JobLineCount {
  value = 0;

  constructor(consumer: NodeProcess) {
    consumer.watch((line) => {
      if (line.includes(JOB_LINE_MARKER)) this.value++;
    });
  }
}

/** Milliseconds on the shared machine clock, sub-millisecond. */
export function clockMs(): number {
  return performance.timeOrigin + performance.now();
}

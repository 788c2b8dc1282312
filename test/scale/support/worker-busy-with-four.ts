import type { NodeProcess } from '../../support/node-process';
import { waitFor } from '../../support/wait-for';
import type { ScaleContext } from './describe-on-scale-backends';

/**
 * Starts a worker running four jobs at a time on 2 s leases with a 1 s ShutdownTimeout, and
 * resolves once it has started four: a worker to stop in the middle of its work.
 */
export async function startWorkerBusyWithFour(ctx: ScaleContext): Promise<NodeProcess> {
  const worker = await ctx.startWorker({
    MaxParallelJobExecutionCount: 4,
    JobLeaseDuration: 2,
    JobPollPeriod: 200,
    ShutdownTimeout: 1,
  });
  await waitFor(
    'four jobs to start',
    () => worker.linesMatching((l) => l.msg === 'fixture-started').length === 4,
    10_000,
    10,
  );
  return worker;
}

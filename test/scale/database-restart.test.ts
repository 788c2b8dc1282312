import { execFileSync } from 'node:child_process';
import { describeOnScaleBackends } from './support/describe-on-scale-backends';
import { executionsById } from './support/fixture-worker';
import { insertJobs, jobRow, remainingRows } from './support/scale-database';
import { waitFor } from '../support/wait-for';
import { report } from './support/report';
import { startWorkerBusyWithFour } from './support/worker-busy-with-four';

jest.setTimeout(120_000);

const JOBS = 1500;
const PG_CLUSTER = process.env.PG_CLUSTER_VERSION ?? '15';

/**
 * Restarts the machine's PostgreSQL under the workers. Run only under /tmp/dist.lock (the scale
 * command holds it), so no other helper's test sees the outage.
 */
function postgresCluster(action: 'restart' | 'stop' | 'start'): void {
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', PG_CLUSTER, 'main', action], {
    stdio: 'pipe',
    timeout: 60_000,
  });
}

function postgresIsUp(): boolean {
  try {
    execFileSync('pg_isready', ['-h', '127.0.0.1', '-p', '5432', '-q'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describeOnScaleBackends(
  'the server restarts in the middle of a run',
  (ctx) => {
    afterEach(() => {
      if (!postgresIsUp()) postgresCluster('start');
    });

    it('logs the outage once each way, recovers, and runs every job', async () => {
      const { store } = ctx;
      const ids = await insertJobs(
        store,
        Array.from({ length: JOBS }, (_, i) => jobRow('FixtureSleep', { ms: 20, n: i })),
      );
      const workers = await ctx.startWorkers(2, {
        MaxParallelJobExecutionCount: 4,
        JobLeaseDuration: 2,
        JobPollPeriod: 200,
      });
      const started = () => executionsById(workers).size;
      await waitFor('the run to be under way', () => started() >= 100, 30_000, 10);

      const before = started();
      const restartAt = Date.now();
      postgresCluster('restart');
      const restartMs = Date.now() - restartAt;

      // The test's own pool lost its connections too; a failed count just means "not yet".
      await waitFor('the table to empty', async () => (await store.count()) === 0, 90_000, 200);
      const recoveredMs = Date.now() - restartAt;
      const exits = await Promise.all(workers.map((w) => w.stop('SIGTERM')));

      const counts = executionsById(workers);
      const lost = workers.map((w) => w.linesMatching((l) => l.msg.startsWith('Lost the database')).length);
      const back = workers.map((w) => w.linesMatching((l) => l.msg.startsWith('The database is back')).length);
      const duplicates = [...counts.values()].filter((n) => n > 1).length;
      report(`database-restart ${ctx.name}`, {
        jobs: JOBS,
        workers: 2,
        startedBeforeRestart: before,
        restartMs,
        recoveredMs,
        lost,
        back,
        duplicates,
      });

      expect(exits).toEqual(workers.map(() => ({ code: 0, signal: null })));
      expect(lost).toEqual([1, 1]);
      expect(back).toEqual([1, 1]);
      expect(ids.filter((id) => !counts.has(id))).toEqual([]);
      expect(await remainingRows(ctx.database)).toEqual([]);
    });

    it('exits 0 on SIGTERM while the server is down, and its rows run elsewhere once it is back', async () => {
      const { store } = ctx;
      const ids = await insertJobs(
        store,
        Array.from({ length: 8 }, (_, i) => jobRow('FixtureSleep', { ms: 1500, n: i })),
      );
      const first = await startWorkerBusyWithFour(ctx);

      postgresCluster('stop');
      const termAt = Date.now();
      let exit;
      let shutdownMs;
      try {
        exit = await first.stop('SIGTERM', 30_000);
        // Taken before the server is started again: its start-up is not the worker's shutdown.
        shutdownMs = Date.now() - termAt;
      } finally {
        postgresCluster('start');
      }

      const second = await ctx.startWorker({
        MaxParallelJobExecutionCount: 4,
        JobLeaseDuration: 2,
        JobPollPeriod: 200,
      });
      await waitFor('the table to empty', async () => (await store.count()) === 0, 30_000, 200);
      expect(await second.stop('SIGTERM')).toEqual({ code: 0, signal: null });
      const counts = executionsById(ctx.workers);
      report(`sigterm-while-down ${ctx.name}`, {
        shutdownMs,
        exit,
        stopped: first.linesMatching((l) => l.msg.startsWith('Worker stopped'))[0]?.msg,
      });

      expect(exit).toEqual({ code: 0, signal: null });
      // ShutdownTimeout, then a bounded retry of the writes the database could not take.
      expect(shutdownMs).toBeLessThan(10_000);
      expect(ids.filter((id) => !counts.has(id))).toEqual([]);
    });
  },
  { only: ['postgres'] },
);

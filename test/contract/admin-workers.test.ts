import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { resolveOptions, StoreBackgroundJobsAdmin, WorkerHeartbeatRow } from '@app/background-jobs';
import { WorkerHeartbeat as HeartbeatWriter } from '@app/background-jobs/worker/worker-heartbeat';
import { storeBackends } from '../support/backends';
import { describeOnStoreBackends } from '../support/store-suite';
import { waitFor } from '../support/wait-for';

/**
 * Workers' heartbeats (AbpBackgroundJobWorkers, ours beside ABP's table), on every backend: the
 * store writes, lists, prunes and deletes them; the worker's part beats and deletes its row on
 * stop; workers() shows only the live ones. A fresh database per test: workers() reads them all.
 */
jest.setTimeout(30_000);

const beat = (overrides: Partial<WorkerHeartbeatRow> = {}): WorkerHeartbeatRow => ({
  id: randomUUID(),
  host: 'worker-host-1',
  pid: 4242,
  applicationName: null,
  jobNames: ['MyReportJobArgs', '<script>odd name</script>'],
  maxParallel: 8,
  running: 3,
  startedAt: new Date(Date.now() - 60_000),
  lastHeartbeat: new Date(),
  ...overrides,
});

describeOnStoreBackends(
  'Worker heartbeats: %s',
  storeBackends,
  (suite) => {
    it('writes a row, updates it, lists the live ones newest first, prunes and deletes', async () => {
      const { heartbeats } = suite.store;
      const now = Date.now();
      const first = beat({ lastHeartbeat: new Date(now - 2000), applicationName: 'app' });
      const second = beat({ lastHeartbeat: new Date(now - 1000) });
      const dead = beat({ lastHeartbeat: new Date(now - 3_600_000) });
      for (const b of [first, second, dead]) await heartbeats.beat(b);
      const updated = { ...first, running: 5, lastHeartbeat: new Date(now) };
      await heartbeats.beat(updated);

      expect(await heartbeats.live(new Date(now - 60_000))).toEqual([updated, second]);
      expect(await heartbeats.prune(new Date(now - 600_000))).toBe(1);
      expect(await heartbeats.live(new Date(0))).toEqual([updated, second]);
      await heartbeats.remove(second.id.toUpperCase());
      expect(await heartbeats.live(new Date(0))).toEqual([updated]);
    });

    it("workers(): the live workers' rows, times as ISO text; a worker silent for three periods drops off", async () => {
      const live = beat();
      await suite.store.heartbeats.beat(live);
      await suite.store.heartbeats.beat(beat({ lastHeartbeat: new Date(Date.now() - 30_000) }));
      expect(await new StoreBackgroundJobsAdmin(suite.store, resolveOptions({})).workers()).toEqual([
        {
          ...live,
          startedAt: live.startedAt.toISOString(),
          lastHeartbeat: live.lastHeartbeat.toISOString(),
        },
      ]);
    });

    it("the worker's heartbeat beats at start and every period with the jobs running, and deletes its row on stop", async () => {
      let running = 0;
      const writer = new HeartbeatWriter(
        suite.store,
        { applicationName: 'app', jobNames: ['A', 'B'], maxParallel: 4 },
        () => running,
        new Logger('test'),
        100,
      );
      writer.start();
      await waitFor('the first beat', async () => (await suite.store.heartbeats.live(new Date(0))).length === 1);
      running = 2;
      await waitFor(
        'a beat with 2 running',
        async () => (await suite.store.heartbeats.live(new Date(0)))[0]?.running === 2,
      );
      const [row] = await suite.store.heartbeats.live(new Date(0));
      expect(row).toMatchObject({
        id: writer.id,
        pid: process.pid,
        applicationName: 'app',
        jobNames: ['A', 'B'],
        maxParallel: 4,
      });
      await writer.stop();
      expect(await suite.store.heartbeats.live(new Date(0))).toEqual([]);
    });
  },
  { perTest: true },
);

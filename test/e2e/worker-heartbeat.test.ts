import { BackgroundJobStore, WORKER_HEARTBEAT_PERIOD_MS } from '@app/background-jobs';
import type { TestDatabase } from '../support/databases';
import { openStore } from '../support/open-store';
import { waitFor } from '../support/wait-for';
import { startWorker } from './support/apps';
import { e2eCases, skipUnavailable } from './support/e2e-backends';

/**
 * The built worker writes its row to AbpBackgroundJobWorkers at start and every few seconds, and
 * deletes it when it stops gracefully, so the dashboard's workers page shows only live workers.
 */
jest.setTimeout(90_000);

describe.each(e2eCases)('worker heartbeat on %s', (_label, backend) => {
  if (skipUnavailable(backend)) return;
  let db: TestDatabase;
  let store: BackgroundJobStore;
  let close: () => Promise<void>;

  beforeAll(async () => {
    db = await backend.create();
    ({ store, close } = await openStore(db.connectionString, backend.provider));
    await store.migrate();
  });
  afterAll(async () => {
    await close?.();
    await db?.drop();
  });

  it('beats while it runs, with its pid, job names and parallelism; its row is gone after SIGTERM', async () => {
    const worker = await startWorker({
      connectionString: db.connectionString,
      env: {
        AbpBackgroundJobWorker__MaxParallelJobExecutionCount: '3',
        AbpBackgroundJobWorker__ApplicationName: 'hb-app',
      },
    });
    try {
      await waitFor('the first heartbeat', async () => (await store.heartbeats.live(new Date(0))).length === 1);
      const [first] = await store.heartbeats.live(new Date(0));
      expect(first).toMatchObject({
        pid: worker.pid,
        applicationName: 'hb-app',
        jobNames: ['MyReportJobArgs'],
        maxParallel: 3,
        running: 0,
      });
      await waitFor(
        'a later heartbeat',
        async () => (await store.heartbeats.live(new Date(0)))[0].lastHeartbeat > first.lastHeartbeat,
        WORKER_HEARTBEAT_PERIOD_MS * 3,
      );
    } finally {
      expect(await worker.stop()).toEqual({ code: 0, signal: null });
    }
    expect(await store.heartbeats.live(new Date(0))).toEqual([]);
  });
});

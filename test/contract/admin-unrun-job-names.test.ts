import { randomBytes, randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import {
  BackgroundJobRecord,
  BackgroundJobStore,
  resolveOptions,
  StoreBackgroundJobsAdmin,
  WorkerHeartbeatRow,
} from '@app/background-jobs';
import { backends, storeBackends } from '../support/backends';
import { jobRecord } from '../support/job-records';
import { LEGACY_ROW, legacyTables } from '../support/legacy-tables';
import { describeOnStoreBackends } from '../support/store-suite';

/**
 * The dashboard's "due rows no live worker runs" (#11, point 6), on every backend:
 * store.countDueByApplication() counts the rows a claim would take (live, not abandoned, not
 * held, due) per application and job name, byte for byte; the management service's
 * unrunJobNames() keeps those no live worker of their application runs, by the heartbeats.
 */
jest.setTimeout(30_000);

const hex32 = () => randomBytes(16).toString('hex');
const MINUTE = 60_000;
const ago = (ms: number) => new Date(Date.now() - ms);

const row = (overrides: Partial<BackgroundJobRecord>) =>
  jobRecord({ applicationName: 'Reports', creationTime: ago(2 * MINUTE), nextTryTime: ago(MINUTE), ...overrides });
const rows = (n: number, overrides: Partial<BackgroundJobRecord>) => Array.from({ length: n }, () => row(overrides));

const beat = (applicationName: string | null, jobNames: string[], lastHeartbeat = new Date()): WorkerHeartbeatRow => ({
  id: randomUUID(),
  host: 'worker-host',
  pid: 4242,
  applicationName,
  jobNames,
  maxParallel: 4,
  running: 0,
  startedAt: ago(10 * MINUTE),
  lastHeartbeat,
});

/** Due rows in three applications and none, and rows a claim would not take now. */
async function seed(store: BackgroundJobStore): Promise<void> {
  const held = row({ priority: 25 });
  await store.insert([
    ...rows(2, {}),
    held,
    ...rows(2, { jobName: 'MyReportJobArgs ' }),
    ...rows(2, { applicationName: null, jobName: 'MyReportJobArgs ' }),
    row({ jobName: 'Old' }),
    row({ applicationName: 'Other', jobName: 'Old' }),
    row({ applicationName: 'reports', jobName: 'Old' }),
    row({ jobName: 'Future', nextTryTime: new Date(Date.now() + MINUTE) }),
    row({ jobName: 'Abandoned', isAbandoned: true }),
    row({ jobName: 'Completed', completionTime: ago(1000) }),
  ]);
  const claimed = await store.claim({
    applicationName: 'Reports',
    jobNames: ['MyReportJobArgs'],
    limit: 1,
    now: new Date(),
    leaseUntil: new Date(Date.now() + 10 * MINUTE),
    leaseToken: `lease:${hex32()}`,
  });
  expect(claimed.map((c) => c.id)).toEqual([held.id]);
}

describeOnStoreBackends(
  'Due rows no live worker runs: %s',
  storeBackends,
  (suite) => {
    const admin = () => new StoreBackgroundJobsAdmin(suite.store, resolveOptions({}));

    it('countDueByApplication: due rows per application and exact job name, most first, ties by name then application', async () => {
      expect(await suite.store.countDueByApplication(new Date())).toEqual([]);
      await seed(suite.store);

      expect(await suite.store.countDueByApplication(new Date())).toEqual([
        { applicationName: 'Reports', jobName: 'MyReportJobArgs', count: 2 },
        { applicationName: null, jobName: 'MyReportJobArgs ', count: 2 },
        { applicationName: 'Reports', jobName: 'MyReportJobArgs ', count: 2 },
        { applicationName: 'Other', jobName: 'Old', count: 1 },
        { applicationName: 'Reports', jobName: 'Old', count: 1 },
        { applicationName: 'reports', jobName: 'Old', count: 1 },
      ]);
    });

    it('unrunJobNames: with no live worker, says so and lists nothing', async () => {
      await seed(suite.store);
      await suite.store.heartbeats.beat(beat('Reports', ['MyReportJobArgs'], ago(10 * MINUTE)));

      expect(await admin().unrunJobNames()).toEqual({ liveWorkers: 0, jobNamesNoWorkerRuns: [] });
    });

    it('unrunJobNames: the due rows whose name no live worker of their application runs, names and applications byte for byte', async () => {
      await seed(suite.store);
      for (const heartbeat of [
        beat('Reports', ['MyReportJobArgs']),
        beat('Reports', ['Old', 'Future']),
        beat(null, ['MyReportJobArgs', 'Old']),
        // Silent for ten minutes: its names count for nothing.
        beat('Other', ['Old'], ago(10 * MINUTE)),
      ])
        await suite.store.heartbeats.beat(heartbeat);

      expect(await admin().unrunJobNames()).toEqual({
        liveWorkers: 3,
        jobNamesNoWorkerRuns: [
          { applicationName: null, jobName: 'MyReportJobArgs ', count: 2 },
          { applicationName: 'Reports', jobName: 'MyReportJobArgs ', count: 2 },
          { applicationName: 'Other', jobName: 'Old', count: 1 },
          { applicationName: 'reports', jobName: 'Old', count: 1 },
        ],
      });
    });
  },
  { perTest: true },
);

describeOnStoreBackends(
  'Due rows no live worker runs, on a table of ABP 9.1 (no ApplicationName: every row is every application): %s',
  backends,
  (suite) => {
    beforeEach(() => jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined));
    afterEach(() => jest.restoreAllMocks());

    it('counts per job name only, and any live worker runs a row', async () => {
      for (const statement of legacyTables[suite.backend.name].statements)
        await suite.opened.dataSource.query(statement);
      await suite.opened.store.migrate();
      const { store } = suite.opened;
      await store.insert([...rows(2, { jobName: 'MyReportJobArgs ' }), row({ jobName: 'Old' })]);

      expect(await store.countDueByApplication(new Date())).toEqual([
        { jobName: 'MyReportJobArgs ', count: 2 },
        { jobName: LEGACY_ROW.jobName, count: 1 },
        { jobName: 'Old', count: 1 },
      ]);
      await store.heartbeats.beat(beat('Reports', ['Old']));
      await store.heartbeats.beat(beat(null, [LEGACY_ROW.jobName]));
      expect(await new StoreBackgroundJobsAdmin(store, resolveOptions({})).unrunJobNames()).toEqual({
        liveWorkers: 2,
        jobNamesNoWorkerRuns: [{ applicationName: null, jobName: 'MyReportJobArgs ', count: 2 }],
      });
    });
  },
  { perTest: true, migrate: false },
);

import { randomBytes, randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { enqueueUnique } from '@app/background-jobs/store/unique-enqueue';
import type { ScheduleRecord } from '@app/background-jobs/store/schedule-store';
import { abpMigrations } from '../support/abp-migrations';
import { backends } from '../support/backends';
import { jobRecord } from '../support/job-records';
import { legacyTables } from '../support/legacy-tables';
import { describeOnStoreBackends } from '../support/store-suite';

/**
 * Unique jobs, recurring jobs' runs, cancel and enqueue in the caller's transaction on a table ABP
 * made before 9.2 (no ApplicationName, no CompletionTime) and before 10.6 (no CompletionTime): each
 * writes rows with only the table's columns and tests a row's state without the missing ones.
 */
jest.setTimeout(30_000);

const hex32 = () => randomBytes(16).toString('hex');

const SHAPES = [
  { label: 'ABP 9.1', migrations: 0 },
  { label: 'ABP 9.2 to 10.5', migrations: 1 },
] as const;

function scheduleOf(name: string): ScheduleRecord {
  const now = new Date();
  return {
    name,
    applicationName: 'app',
    jobName: 'NightlyJobArgs',
    jobArgs: '{}',
    cron: '0 3 * * *',
    timeZone: null,
    priority: 15,
    isPaused: false,
    source: 'runtime',
    definitionStamp: hex32(),
    creationTime: now,
    lastOccurrenceTime: now,
    lastEnqueueTime: null,
    lastJobId: null,
  };
}

describeOnStoreBackends(
  "#13's features on a table of an older ABP: %s",
  backends,
  (suite) => {
    const dialect = suite.backend.name;
    beforeEach(() => {
      jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    });
    afterEach(() => jest.restoreAllMocks());

    it.each(SHAPES)('works on the table of $label', async ({ migrations }) => {
      const { opened } = suite;
      const ddl = [
        ...legacyTables[dialect].statements,
        ...abpMigrations[dialect].slice(0, migrations).flatMap((m) => m.statements),
      ];
      for (const statement of ddl) await opened.dataSource.query(statement);
      await opened.store.migrate();
      const store = opened.store;
      expect(await store.hasCompletionTimeColumn()).toBe(false);

      // Unique jobs: inserted, then replaced while waiting; an abandoned one moved aside for a new one.
      const row = jobRecord({ applicationName: 'app', extraProperties: '{"UniqueKey":"k"}' });
      expect(await enqueueUnique(store, row, 'keep', randomUUID)).toBe('enqueued');
      expect(await enqueueUnique(store, { ...row, jobArgs: '{"v":2}' }, 'replace', randomUUID)).toBe('replaced');
      expect((await store.find(row.id))?.jobArgs).toBe('{"v":2}');
      expect(await store.uniqueJobs.moveFinished(row.id, randomUUID())).toBe(false);
      await expect(store.uniqueJobs.insertIfAbsent(jobRecord({ completionTime: new Date() }))).rejects.toThrow(
        /no CompletionTime column/,
      );

      // Cancel: the waiting job is abandoned; a request for it is then settled.
      const waiting = (await store.find(row.id))!;
      expect(
        await store.cancellations.abandonWaiting(
          { id: row.id, expectedStamp: waiting.concurrencyStamp, extraProperties: '{}', newStamp: hex32() },
          new Date(),
        ),
      ).toBe(true);
      expect((await store.find(row.id))?.isAbandoned).toBe(true);
      await store.cancellations.request(
        { id: row.id, jobCreationTime: waiting.creationTime, requestedBy: 'x' },
        new Date(),
      );
      expect(await store.cancellations.deleteSettledRequests(10)).toBe(1);
      const moved = randomUUID();
      expect(await store.uniqueJobs.moveFinished(row.id, moved)).toBe(true);
      expect(await store.find(moved)).toBeDefined();

      // A schedule's triggered run writes its job.
      const schedule = scheduleOf(`nightly-${hex32()}`);
      expect(await store.schedules.insert(schedule)).toBe(true);
      const job = jobRecord({ applicationName: 'app', jobName: 'NightlyJobArgs' });
      expect(await store.schedules.enqueueRun({ name: schedule.name, job }, new Date())).toBe(true);
      expect((await store.find(job.id))?.jobName).toBe('NightlyJobArgs');

      // Enqueue in the caller's transaction.
      const id = randomUUID();
      const now = new Date();
      await opened.dataSource.transaction((manager) =>
        store.withinTransaction(manager).enqueue({
          applicationName: 'app',
          creationTime: now,
          jobs: [
            {
              id,
              jobName: 'InTransactionJobArgs',
              jobArgs: '{}',
              priority: 15,
              nextTryTime: now,
              concurrencyStamp: hex32(),
            },
          ],
        }),
      );
      expect((await store.find(id))?.jobName).toBe('InTransactionJobArgs');
    });
  },
  { perTest: true, migrate: false },
);

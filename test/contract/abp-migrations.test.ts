import { randomBytes, randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { BackgroundJobStore, ClaimRequest, EnqueueBatch } from '@app/background-jobs';
import { ABP_COLUMNS } from '@app/background-jobs/store/table-shape';
import { abpMigrations, ABP_10_6_INDEX, ABP_9_INDEX } from '../support/abp-migrations';
import { backends } from '../support/backends';
import { jobRecord } from '../support/job-records';
import { LEGACY_ROW, legacyTables } from '../support/legacy-tables';
import { describeOnStoreBackends, OpenedStore } from '../support/store-suite';
import { quoted, readTableCatalog, TableCatalog } from '../support/table-catalog';

/**
 * Never in the way of ABP's migrations. An ABP app that shares the table runs its own EF Core
 * migrations when it upgrades; this module creates what ABP's newest migrations create, and on a
 * table ABP made it adds only objects of its own: on an ABP 9.1 table, ABP's 9.2 and 10.6 DDL
 * (test/support/abp-migrations.ts) must then succeed, and the store keep working, as it runs and
 * after a restart.
 */
jest.setTimeout(60_000);

const T0 = new Date('2030-06-15T12:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;
const leaseToken = () => `lease:${randomBytes(16).toString('hex')}`;
const OPTIONAL = ['ApplicationName', 'CompletionTime'];

const batchOf = (applicationName: string | null, jobName: string, count = 1): EnqueueBatch => ({
  applicationName,
  creationTime: T0,
  jobs: Array.from({ length: count }, () => ({
    id: randomUUID(),
    jobName,
    jobArgs: '{}',
    priority: 15,
    nextTryTime: T0,
    concurrencyStamp: randomBytes(16).toString('hex'),
  })),
});

const claimOf = (store: BackgroundJobStore, request: Partial<ClaimRequest> & Pick<ClaimRequest, 'jobNames'>) =>
  store.claim({
    applicationName: null,
    limit: 100,
    now: at(1000),
    leaseUntil: at(61_000),
    leaseToken: leaseToken(),
    ...request,
  });

/** Our indexes on ABP's table: every index but the primary key and ABP's own. */
function ourIndexes(catalog: TableCatalog): Map<string, string> {
  const abp = new Set([ABP_9_INDEX, ...Object.values(ABP_10_6_INDEX)]);
  return new Map([...catalog.indexes].filter(([name]) => name.startsWith('IX_AbpBackgroundJobs_') && !abp.has(name)));
}

describeOnStoreBackends(
  "ABP's own migrations on a table of ours: %s",
  backends,
  (suite) => {
    const { backend } = suite;
    const dialect = backend.name;
    const catalog = () => readTableCatalog(suite.opened.dataSource, dialect);
    const run = async (opened: OpenedStore, statements: string[]) => {
      for (const statement of statements) await opened.dataSource.query(statement);
    };
    afterEach(() => jest.restoreAllMocks());

    it("makes a fresh table ABP 10.6's: ABP's columns, primary key and index under ABP's names, beside our own indexes", async () => {
      await suite.opened.store.migrate();
      const table = await catalog();
      expect([...table.columns].sort()).toEqual([...ABP_COLUMNS].sort());
      expect(table.indexes.has(ABP_10_6_INDEX[dialect])).toBe(true);
      // ABP 10.6's migration dropped it: a table made now never has it.
      expect(table.indexes.has(ABP_9_INDEX)).toBe(false);
      expect([...ourIndexes(table).keys()]).toEqual(expect.arrayContaining(['IX_AbpBackgroundJobs_Dequeue']));
    });

    it("adopts ABP 9.1's table adding nothing of ABP's; ABP's 9.2 and 10.6 migrations then succeed, and the store keeps working, running and restarted", async () => {
      const warned = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      const logged = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
      const { opened } = suite;
      await run(opened, legacyTables[dialect].statements);
      const legacyColumns = (await catalog()).columns;

      // Our migration, twice: no column of ABP's, no index under ABP's names, none of ours on a column the table lacks.
      await opened.store.migrate();
      await opened.store.migrate();
      const adopted = await catalog();
      expect(adopted.columns).toEqual(legacyColumns);
      expect(adopted.columns).not.toEqual(expect.arrayContaining(['ApplicationName']));
      expect(adopted.indexes.has(ABP_9_INDEX)).toBe(true);
      expect(adopted.indexes.has(ABP_10_6_INDEX[dialect])).toBe(false);
      const ours = ourIndexes(adopted);
      expect([...ours.keys()]).toEqual(expect.arrayContaining(['IX_AbpBackgroundJobs_Dequeue']));
      for (const [name, definition] of ours)
        for (const column of OPTIONAL)
          expect([name, definition.includes(quoted(dialect, column))]).toEqual([name, false]);

      // Without ApplicationName the store works without its filter, and says so once.
      const store = opened.store;
      const jobName = unique('Adopted');
      await store.enqueue(batchOf('app-a', jobName));
      await store.enqueue(batchOf(null, jobName));
      expect(await store.count('app-a')).toBe(3);
      expect(await store.count(null)).toBe(3);
      expect(await store.countDueByJobName('app-b', at(1000))).toEqual(
        expect.arrayContaining([
          { jobName, count: 2 },
          { jobName: LEGACY_ROW.jobName, count: 1 },
        ]),
      );
      const token = leaseToken();
      const claimed = await claimOf(store, {
        applicationName: 'app-b',
        jobNames: [jobName, LEGACY_ROW.jobName],
        leaseToken: token,
      });
      expect(claimed).toHaveLength(3);
      expect(claimed.every((job) => job.applicationName === null)).toBe(true);
      expect(
        await store.complete(
          token,
          claimed.map((j) => j.id),
        ),
      ).toBe(3);
      const noticesOf = (spy: jest.SpyInstance, pattern: RegExp) =>
        (spy.mock.calls as unknown[][]).filter(([message]) => pattern.test(String(message)));
      expect(noticesOf(warned, /no ApplicationName column \(a table made by ABP before 9\.2\)/)).toHaveLength(1);

      // Without CompletionTime: StoreSuccessfulJobs is unavailable, and nothing names the column.
      expect(await store.hasCompletionTimeColumn()).toBe(false);
      expect(noticesOf(logged, /no CompletionTime column .* StoreSuccessfulJobs is unavailable/)).toHaveLength(1);
      await expect(
        store.completeAndKeep([
          { id: randomUUID(), leaseToken: token, completionTime: T0, extraProperties: null, newStamp: 'x' },
        ]),
      ).rejects.toThrow(/no CompletionTime column/);
      await expect(store.insert([jobRecord({ completionTime: T0 })])).rejects.toThrow(/no CompletionTime column/);
      expect(await store.deleteCompletedBefore(null, at(1000), 10)).toBe(0);

      // The management service on it: counts, lists (any application), actions, history.
      const scheduled = jobRecord({ jobName, creationTime: T0, nextTryTime: at(3_600_000) });
      const abandoned = jobRecord({ jobName, creationTime: T0, isAbandoned: true, tryCount: 3, lastTryTime: T0 });
      await store.insert([scheduled, abandoned]);
      expect(await store.admin.countStates(at(1000), 100_000)).toEqual(
        expect.arrayContaining([
          { jobName, state: 'scheduled', count: 1, estimated: false },
          { jobName, state: 'abandoned', count: 1, estimated: false },
        ]),
      );
      const listed = await store.admin.list({ state: 'abandoned', now: at(1000), limit: 10, applicationName: 'app-c' });
      expect(listed.map((l) => l.record.id)).toEqual([abandoned.id]);
      expect(await store.admin.list({ state: 'succeeded', now: at(1000), limit: 10 })).toEqual([]);
      expect((await store.admin.read([abandoned.id]))[0]).toMatchObject({ id: abandoned.id, completionTime: null });
      expect(await store.admin.runNow([scheduled.id], at(1000), randomBytes(16).toString('hex'))).toEqual([
        scheduled.id,
      ]);
      expect(await store.admin.history(T0, at(1000))).toEqual([{ minute: T0, succeeded: 0, failed: 1 }]);
      expect(await store.admin.delete([scheduled.id, abandoned.id], at(1000))).toEqual(
        expect.arrayContaining([scheduled.id, abandoned.id]),
      );

      // ABP's own migrations, as its EF Core migrations send them: each succeeds, and the running store keeps working.
      for (const migration of abpMigrations[dialect]) {
        await run(opened, migration.statements);
        const name = unique(`AfterAbp${migration.version}`);
        await store.enqueue(batchOf('app-a', name, 2));
        const running = await claimOf(store, { applicationName: 'app-a', jobNames: [name] });
        expect([migration.version, running.length]).toEqual([migration.version, 2]);
        expect(
          await store.complete(
            running[0].leaseToken,
            running.map((j) => j.id),
          ),
        ).toBe(2);
      }
      const upgraded = await catalog();
      expect(upgraded.indexes.has(ABP_10_6_INDEX[dialect])).toBe(true);
      expect(upgraded.indexes.has(ABP_9_INDEX)).toBe(false);

      // Restarted: the store finds both columns, rebuilds our indexes for them, and filters by application again.
      const restarted = await suite.open();
      await restarted.store.migrate();
      const rebuilt = ourIndexes(await catalog());
      expect(rebuilt.get('IX_AbpBackgroundJobs_Dequeue')).toContain(quoted(dialect, 'ApplicationName'));
      expect([...rebuilt.values()].some((definition) => definition.includes(quoted(dialect, 'CompletionTime')))).toBe(
        true,
      );
      expect(await restarted.store.hasCompletionTimeColumn()).toBe(true);
      const name = unique('Restarted');
      await restarted.store.enqueue(batchOf('app-a', name, 2));
      await restarted.store.enqueue(batchOf('app-b', name, 1));
      const mine = await claimOf(restarted.store, { applicationName: 'app-a', jobNames: [name] });
      expect(mine.map((j) => j.applicationName)).toEqual(['app-a', 'app-a']);
      expect(
        await restarted.store.completeAndKeep(
          mine.map((j) => ({
            id: j.id,
            leaseToken: j.leaseToken,
            completionTime: at(2000),
            extraProperties: null,
            newStamp: randomBytes(16).toString('hex'),
          })),
        ),
      ).toBe(2);
      const kept = await restarted.store.admin.list({ state: 'succeeded', now: at(3000), limit: 10 });
      expect(kept.map((l) => l.record.completionTime)).toEqual([at(2000), at(2000)]);
      expect(await restarted.store.count('app-b')).toBe(1);
    });

    it('adopts a table of ABP 9.2 to 10.5 (ApplicationName, no CompletionTime) filtering by application, without StoreSuccessfulJobs', async () => {
      const { opened } = suite;
      await run(opened, [...legacyTables[dialect].statements, ...abpMigrations[dialect][0].statements]);
      await opened.store.migrate();
      const table = await catalog();
      expect(table.columns).not.toEqual(expect.arrayContaining(['CompletionTime']));
      expect(table.indexes.has(ABP_10_6_INDEX[dialect])).toBe(false);
      for (const [name, definition] of ourIndexes(table))
        expect([name, definition.includes(quoted(dialect, 'CompletionTime'))]).toEqual([name, false]);
      const name = unique('Abp92');
      await opened.store.enqueue(batchOf('app-a', name, 2));
      await opened.store.enqueue(batchOf('app-b', name, 1));
      expect((await claimOf(opened.store, { applicationName: 'app-b', jobNames: [name] })).length).toBe(1);
      expect(await opened.store.count('app-a')).toBe(2);
      expect(await opened.store.hasCompletionTimeColumn()).toBe(false);
      // ABP's 10.6 migration still applies.
      await run(opened, abpMigrations[dialect][1].statements);
    });
  },
  { perTest: true, migrate: false },
);

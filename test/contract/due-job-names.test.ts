import { randomBytes } from 'node:crypto';
import { BackgroundJobRecord, MAX_DUE_JOB_NAMES } from '@app/background-jobs';
import type { DatabaseProvider } from '@app/background-jobs/connection/database-provider';
import { storeBackends } from '../support/backends';
import { jobRecord } from '../support/job-records';
import { legacyTables } from '../support/legacy-tables';
import { describeOnStoreBackends } from '../support/store-suite';

/**
 * countDueByJobName(): what a worker logs about rows whose names it does not run. It counts what
 * a claim would take if it asked for every name: rows of the one application, live, not
 * abandoned, due; a row under an unexpired lease is not due. Names come back byte for byte, so
 * a case or trailing-space variant is its own entry even where the column's collation calls them
 * equal (MariaDB's PAD SPACE and _ci collations, SQL Server's padding). A fresh database per
 * test; times are passed in, so nothing depends on the clock.
 */
jest.setTimeout(30_000);

const T0 = new Date('2030-06-15T12:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const hex32 = () => randomBytes(16).toString('hex');

const row = (overrides: Partial<BackgroundJobRecord>) =>
  jobRecord({ applicationName: 'Reports', creationTime: at(-60_000), nextTryTime: at(-1000), ...overrides });
const rows = (n: number, overrides: Partial<BackgroundJobRecord>) => Array.from({ length: n }, () => row(overrides));

/**
 * Makes JobName case-insensitive on a migrated, empty table, as an adopted table may have it
 * (SQLite: a NOCASE column, which SQLite cannot alter, so the table is made again from ABP 9's
 * DDL; PostgreSQL: a nondeterministic ICU collation). MariaDB's default collation already is
 * (the test above); SQL Server cannot alter a column its index includes.
 */
const caseInsensitiveJobName: Partial<Record<DatabaseProvider, string[]>> = {
  sqlite: [
    'DROP TABLE "AbpBackgroundJobs"',
    legacyTables.sqlite.statements[0].replace('"JobName" TEXT NOT NULL', '"JobName" TEXT NOT NULL COLLATE NOCASE'),
  ],
  postgres: [
    `CREATE COLLATION job_name_ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)`,
    'ALTER TABLE "AbpBackgroundJobs" ALTER COLUMN "JobName" TYPE character varying(128) COLLATE job_name_ci',
  ],
};

describeOnStoreBackends(
  'BackgroundJobStore.countDueByJobName: %s',
  storeBackends,
  (suite) => {
    const { backend } = suite;
    it('finds no names in an empty table', async () => {
      expect(await suite.store.countDueByJobName('Reports', T0)).toEqual([]);
      expect(await suite.store.countDueByJobName(null, T0)).toEqual([]);
    });

    it('counts due rows per exact job name, for one application or for none', async () => {
      const held = row({ priority: 25 });
      await suite.store.insert([
        ...rows(2, {}),
        row({ nextTryTime: T0 }),
        row({ nextTryTime: at(1) }),
        row({ isAbandoned: true }),
        row({ completionTime: at(-500) }),
        held,
        ...rows(2, { jobName: 'MyReportJobArgs ' }),
        row({ jobName: 'myreportjobargs' }),
        row({ jobName: 'Old' }),
        row({ jobName: 'Rapport-é' }),
        row({ jobName: 'Future', nextTryTime: at(1) }),
        row({ jobName: 'Abandoned', isAbandoned: true }),
        ...rows(4, { applicationName: 'Other' }),
        row({ applicationName: 'Other', jobName: 'OtherOnly' }),
        row({ applicationName: null }),
        ...rows(2, { applicationName: null, jobName: 'NoApp' }),
      ]);
      const claimed = await suite.store.claim({
        applicationName: 'Reports',
        jobNames: ['MyReportJobArgs'],
        limit: 1,
        now: T0,
        leaseUntil: at(60_000),
        leaseToken: `lease:${hex32()}`,
      });
      expect(claimed.map((c) => c.id)).toEqual([held.id]);

      expect(await suite.store.countDueByJobName('Reports', T0)).toEqual([
        { jobName: 'MyReportJobArgs', count: 3 },
        { jobName: 'MyReportJobArgs ', count: 2 },
        { jobName: 'Old', count: 1 },
        { jobName: 'Rapport-é', count: 1 },
        { jobName: 'myreportjobargs', count: 1 },
      ]);
      expect(await suite.store.countDueByJobName(null, T0)).toEqual([
        { jobName: 'NoApp', count: 2 },
        { jobName: 'MyReportJobArgs', count: 1 },
      ]);
      expect(await suite.store.countDueByJobName('Other', T0)).toEqual([
        { jobName: 'MyReportJobArgs', count: 4 },
        { jobName: 'OtherOnly', count: 1 },
      ]);
      expect(await suite.store.countDueByJobName('Nobody', T0)).toEqual([]);

      // When the lease ends the held row is due again, as are the ones that were due later.
      expect((await suite.store.countDueByJobName('Reports', at(60_000)))[0]).toEqual({
        jobName: 'MyReportJobArgs',
        count: 5,
      });
      expect((await suite.store.countDueByJobName('Reports', at(60_000))).map((c) => c.jobName)).toContain('Future');
    });

    const makeCaseInsensitive = backend.name === 'memory' ? undefined : caseInsensitiveJobName[backend.name];
    if (makeCaseInsensitive) {
      it('keeps names apart that a case-insensitive JobName collation calls equal', async () => {
        for (const sql of makeCaseInsensitive) await suite.opened.dataSource.query(sql);
        await suite.store.migrate();
        await suite.store.insert([...rows(2, {}), row({ jobName: 'myreportjobargs' })]);

        expect(await suite.store.countDueByJobName('Reports', T0)).toEqual([
          { jobName: 'MyReportJobArgs', count: 2 },
          { jobName: 'myreportjobargs', count: 1 },
        ]);
      });
    }

    it(`gives at most ${MAX_DUE_JOB_NAMES} names: the most rows first, ties in the names' binary order`, async () => {
      const names = Array.from({ length: MAX_DUE_JOB_NAMES + 1 }, (_, i) => `Job-${String(i).padStart(3, '0')}`);
      await suite.store.insert([...names.map((jobName) => row({ jobName })), ...rows(2, { jobName: 'Zulu' })]);

      expect(await suite.store.countDueByJobName('Reports', T0)).toEqual([
        { jobName: 'Zulu', count: 2 },
        ...names.slice(0, MAX_DUE_JOB_NAMES - 1).map((jobName) => ({ jobName, count: 1 })),
      ]);
    });
  },
  { perTest: true },
);

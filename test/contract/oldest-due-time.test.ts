import { randomBytes } from 'node:crypto';
import { BackgroundJobRecord } from '@app/background-jobs';
import { POSTGRES_OLDEST_DUE } from '@app/background-jobs/store/dialects/postgres.dialect';
import { backends, storeBackends } from '../support/backends';
import { jobRecord } from '../support/job-records';
import { describeOnStoreBackends } from '../support/store-suite';

/**
 * oldestDueTime(): what background_jobs_oldest_waiting_age_seconds is read from. The earliest
 * NextTryTime among the rows countDueByJobName counts: one application's live, not abandoned, due
 * rows, a row under an unexpired lease not due. Times are passed in, so nothing depends on the clock.
 */
jest.setTimeout(60_000);

const T0 = new Date('2030-06-15T12:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const row = (overrides: Partial<BackgroundJobRecord>) =>
  jobRecord({ applicationName: 'Reports', creationTime: at(-600_000), nextTryTime: at(-1000), ...overrides });

describeOnStoreBackends(
  'BackgroundJobStore.oldestDueTime: %s',
  storeBackends,
  (suite) => {
    it('is null when no row is due', async () => {
      expect(await suite.store.oldestDueTime('Reports', T0)).toBeNull();
      await suite.store.insert([row({ nextTryTime: at(1) }), row({ isAbandoned: true })]);
      expect(await suite.store.oldestDueTime('Reports', T0)).toBeNull();
      expect(await suite.store.oldestDueTime(null, T0)).toBeNull();
    });

    it("gives the earliest due NextTryTime of one application's live rows, a leased row not counting until its lease ends", async () => {
      const leased = row({ nextTryTime: at(-90_000), priority: 25 });
      await suite.store.insert([
        leased,
        row({ nextTryTime: at(-30_000), jobName: 'Other' }),
        row({ nextTryTime: at(-5000) }),
        row({ nextTryTime: at(-120_000), isAbandoned: true }),
        row({ nextTryTime: at(-120_000), completionTime: at(-100_000) }),
        row({ nextTryTime: at(-200_000), applicationName: 'Elsewhere' }),
        row({ nextTryTime: at(-7000), applicationName: null }),
        row({ nextTryTime: at(5000), applicationName: null }),
      ]);
      expect(await suite.store.oldestDueTime('Reports', T0)).toEqual(at(-90_000));

      const [claimed] = await suite.store.claim({
        applicationName: 'Reports',
        jobNames: ['MyReportJobArgs'],
        limit: 1,
        now: T0,
        leaseUntil: at(60_000),
        leaseToken: `lease:${randomBytes(16).toString('hex')}`,
      });
      expect(claimed.id).toBe(leased.id);
      expect(await suite.store.oldestDueTime('Reports', T0)).toEqual(at(-30_000));
      expect(await suite.store.oldestDueTime('Reports', at(60_000))).toEqual(at(-30_000));
      expect(await suite.store.oldestDueTime(null, T0)).toEqual(at(-7000));
      expect(await suite.store.oldestDueTime('Elsewhere', T0)).toEqual(at(-200_000));
      expect(await suite.store.oldestDueTime('Nobody', T0)).toBeNull();
    });

    it('keeps milliseconds', async () => {
      await suite.store.insert([row({ nextTryTime: at(-1234) })]);
      expect(await suite.store.oldestDueTime('Reports', T0)).toEqual(at(-1234));
    });
  },
  { perTest: true },
);

type Plan = { 'Node Type': string; 'Index Name'?: string; Plans?: Plan[] };
const nodes = (plan: Plan): Plan[] => [plan, ...(plan.Plans ?? []).flatMap(nodes)];

/** However many rows wait, the gauge's query reads one index entry: a Limit over an index scan, no aggregate over the backlog. */
describeOnStoreBackends(
  'PostgreSQL oldestDueTime plan',
  backends.filter((b) => b.name === 'postgres'),
  (suite) => {
    it.each([
      ['a NULL application', null, POSTGRES_OLDEST_DUE.forNullApp],
      ['a named application', 'app', POSTGRES_OLDEST_DUE.forApp],
    ])('stops at the first entry of an index scan (%s)', async (_label, applicationName, sql) => {
      const due = new Date(Date.now() - 1000);
      await suite.store.insert(
        Array.from({ length: 5000 }, (_, i) =>
          jobRecord({ applicationName: i % 2 === 0 ? null : 'app', creationTime: due, nextTryTime: due }),
        ),
      );
      const [row] = await suite.opened.dataSource.query<Array<{ 'QUERY PLAN': Array<{ Plan: Plan }> }>>(
        `EXPLAIN (FORMAT JSON) ${sql}`,
        [new Date().toISOString(), ...(applicationName === null ? [] : [applicationName])],
      );
      const plan = nodes(row['QUERY PLAN'][0].Plan);
      expect(plan[0]['Node Type']).toBe('Limit');
      expect(plan.filter((n) => ['Aggregate', 'Sort', 'Seq Scan'].includes(n['Node Type']))).toEqual([]);
      expect(plan.some((n) => n['Node Type'].startsWith('Index'))).toBe(true);
    });
  },
  { perTest: true },
);

import { POSTGRES_CLAIM } from '@app/background-jobs/store/dialects/postgres.dialect';
import { backends } from '../support/backends';
import { jobRecord } from '../support/job-records';
import { describeOnStoreBackends } from '../support/store-suite';

/**
 * The PostgreSQL claim must read due rows in order from the dequeue index, also on a table that
 * was just bulk-loaded and never analysed (autovacuum takes its time): with ABP's index and a
 * sort instead, every claim sorted all due rows (12-18 ms a claim at 20,000 rows).
 */
jest.setTimeout(60_000);

const postgres = backends.filter((b) => b.name === 'postgres');

type Plan = { 'Node Type': string; 'Index Name'?: string; Plans?: Plan[] };

function nodes(plan: Plan): Plan[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

describeOnStoreBackends(
  'PostgreSQL claim plan',
  postgres,
  (suite) => {
    const explain = async (sql: string, applicationName: string | null): Promise<Plan[]> => {
      const now = new Date().toISOString();
      const [row] = await suite.opened.dataSource.query<Array<{ 'QUERY PLAN': Array<{ Plan: Plan }> }>>(
        `EXPLAIN (FORMAT JSON) ${sql}`,
        [applicationName, now, ['MyReportJobArgs'], 250, now, 'lease:0123456789abcdef0123456789abcdef'],
      );
      return nodes(row['QUERY PLAN'][0].Plan);
    };

    it.each([
      ['a NULL application', null, POSTGRES_CLAIM.forNullApp],
      ['a named application', 'app', POSTGRES_CLAIM.forApp],
    ])(
      'scans the dequeue index in order, without a sort, before any ANALYZE (%s)',
      async (_label, applicationName, sql) => {
        await suite.opened.store.migrate();
        const now = new Date(Date.now() - 1000);
        const rows = Array.from({ length: 20_000 }, (_, i) =>
          jobRecord({
            applicationName: i % 2 === 0 ? null : 'app',
            jobArgs: `{"content":"${i}"}`,
            creationTime: now,
            nextTryTime: now,
          }),
        );
        await suite.opened.store.insert(rows);
        const [{ analysed }] = await suite.opened.dataSource.query<Array<{ analysed: boolean }>>(
          `SELECT last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL AS analysed FROM pg_stat_user_tables WHERE relname = 'AbpBackgroundJobs'`,
        );
        expect(analysed).toBe(false);

        const plan = await explain(sql, applicationName);
        expect(plan.filter((n) => n['Node Type'] === 'Sort')).toEqual([]);
        expect(plan.filter((n) => n['Index Name']?.startsWith('IX_')).map((n) => n['Index Name'])).toEqual([
          'IX_AbpBackgroundJobs_Dequeue',
        ]);
      },
    );

    it('replaces a dequeue index of another definition (one not led by ApplicationName)', async () => {
      await suite.opened.store.migrate();
      await suite.opened.dataSource.query(`DROP INDEX "IX_AbpBackgroundJobs_Dequeue"`);
      await suite.opened.dataSource
        .query(`CREATE INDEX "IX_AbpBackgroundJobs_Dequeue" ON "AbpBackgroundJobs" ("Priority" DESC, "TryCount", "NextTryTime")
      WHERE "CompletionTime" IS NULL AND "IsAbandoned" = FALSE`);
      await suite.opened.store.migrate();
      await suite.opened.store.migrate();
      const [{ indexdef }] = await suite.opened.dataSource.query<Array<{ indexdef: string }>>(
        `SELECT indexdef FROM pg_indexes WHERE indexname = 'IX_AbpBackgroundJobs_Dequeue'`,
      );
      expect(indexdef).toContain('("ApplicationName", "Priority" DESC, "TryCount", "NextTryTime")');
      expect(indexdef).toContain('WHERE (("CompletionTime" IS NULL) AND ("IsAbandoned" = false))');
    });
  },
  { perTest: true, migrate: false },
);

import type { Database } from 'better-sqlite3';
import { SQLITE_CLAIM } from '@app/background-jobs/store/dialects/sqlite.dialect';
import { backends } from '../support/backends';
import { jobRecord } from '../support/job-records';
import { describeOnStoreBackends } from '../support/store-suite';

/**
 * SQLite's dequeue index has the columns it has on the other databases, ApplicationName first,
 * and holds only live rows; a claim reads due rows in order from it instead of sorting them.
 * Files made before ApplicationName was in it get the index replaced by migrate().
 */
jest.setTimeout(60_000);

const DEQUEUE_COLUMNS = '("ApplicationName", "Priority" DESC, "TryCount", "NextTryTime")';
const LIVE_ROWS = 'WHERE "CompletionTime" IS NULL AND "IsAbandoned" = 0';
const sqlite = backends.filter((b) => b.name === 'sqlite');

describeOnStoreBackends(
  'SQLite dequeue index',
  sqlite,
  (suite) => {
    let db: Database;

    beforeEach(() => {
      db = (suite.opened.dataSource.driver as unknown as { databaseConnection: Database }).databaseConnection;
    });

    const indexSql = () =>
      (
        db
          .prepare(`SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'IX_AbpBackgroundJobs_Dequeue'`)
          .get() as { sql: string }
      ).sql;

    const planOf = (sql: string, params: unknown[]): string[] =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((row) => row.detail);

    it('is made on ApplicationName, Priority DESC, TryCount, NextTryTime over live rows', async () => {
      await suite.opened.store.migrate();
      expect(indexSql()).toContain(DEQUEUE_COLUMNS);
      expect(indexSql()).toContain(LIVE_ROWS);
    });

    it('replaces the index of the same name that left out ApplicationName', async () => {
      await suite.opened.store.migrate();
      db.exec('DROP INDEX "IX_AbpBackgroundJobs_Dequeue"');
      db.exec(
        `CREATE INDEX "IX_AbpBackgroundJobs_Dequeue" ON "AbpBackgroundJobs" ("Priority" DESC, "TryCount", "NextTryTime") ${LIVE_ROWS}`,
      );
      expect(indexSql()).not.toContain('"ApplicationName"');

      await suite.opened.store.migrate();
      await suite.opened.store.migrate();
      expect(indexSql()).toContain(DEQUEUE_COLUMNS);
      expect(indexSql()).toContain(LIVE_ROWS);
    });

    it.each([
      ['a NULL application', null, SQLITE_CLAIM.forNullApp],
      ['a named application', 'app', SQLITE_CLAIM.forApp],
    ])('serves the claim in order, without a sort (%s)', async (_label, applicationName, sql) => {
      await suite.opened.store.migrate();
      const now = new Date(Date.now() - 1000);
      const rows = Array.from({ length: 5000 }, (_, i) =>
        jobRecord({
          applicationName: i % 2 === 0 ? null : 'app',
          jobArgs: `{"content":"${i}"}`,
          tryCount: i % 3,
          creationTime: now,
          nextTryTime: now,
          isAbandoned: i % 7 === 0,
          priority: 5 + (i % 4) * 5,
        }),
      );
      await suite.opened.store.insert(rows);

      const dueAt = new Date().toISOString().replace('T', ' ').replace('Z', '');
      const params = [
        ...(applicationName === null ? [] : [applicationName]),
        dueAt,
        JSON.stringify(['MyReportJobArgs']),
        250,
      ];
      const plan = planOf(sql, params);
      expect(plan.find((step) => step.startsWith('SEARCH AbpBackgroundJobs'))).toMatch(
        /USING INDEX IX_AbpBackgroundJobs_Dequeue \(ApplicationName=\?/,
      );
      expect(plan.filter((step) => step.includes('TEMP B-TREE FOR ORDER BY'))).toEqual([]);
    });
  },
  { perTest: true, migrate: false },
);

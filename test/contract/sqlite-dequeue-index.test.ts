import { randomBytes, randomUUID } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { BackgroundJobRecord } from '@app/background-jobs';
import { SQLITE_CLAIM } from '@app/background-jobs/store/dialects/sqlite.dialect';
import { createSqliteDatabase, TestDatabase } from '../support/databases';
import { openStore } from '../support/open-store';

/**
 * SQLite's dequeue index has the columns it has on the other databases, ApplicationName first,
 * and holds only live rows; a claim reads due rows in order from it instead of sorting them.
 * Files made before ApplicationName was in it get the index replaced by migrate().
 */
jest.setTimeout(60_000);

const DEQUEUE_COLUMNS = '("ApplicationName", "Priority" DESC, "TryCount", "NextTryTime")';
const LIVE_ROWS = 'WHERE "CompletionTime" IS NULL AND "IsAbandoned" = 0';

describe('SQLite dequeue index', () => {
  let database: TestDatabase;
  let opened: Awaited<ReturnType<typeof openStore>>;
  let db: Database;

  beforeEach(async () => {
    database = await createSqliteDatabase();
    opened = await openStore(database.connectionString);
    db = (opened.dataSource.driver as unknown as { databaseConnection: Database }).databaseConnection;
  });

  afterEach(async () => {
    await opened?.close();
    await database?.drop();
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
    await opened.store.migrate();
    expect(indexSql()).toContain(DEQUEUE_COLUMNS);
    expect(indexSql()).toContain(LIVE_ROWS);
  });

  it('replaces the index of the same name that left out ApplicationName', async () => {
    await opened.store.migrate();
    db.exec('DROP INDEX "IX_AbpBackgroundJobs_Dequeue"');
    db.exec(
      `CREATE INDEX "IX_AbpBackgroundJobs_Dequeue" ON "AbpBackgroundJobs" ("Priority" DESC, "TryCount", "NextTryTime") ${LIVE_ROWS}`,
    );
    expect(indexSql()).not.toContain('"ApplicationName"');

    await opened.store.migrate();
    await opened.store.migrate();
    expect(indexSql()).toContain(DEQUEUE_COLUMNS);
    expect(indexSql()).toContain(LIVE_ROWS);
  });

  it.each([
    ['a NULL application', null, SQLITE_CLAIM.forNullApp],
    ['a named application', 'app', SQLITE_CLAIM.forApp],
  ])('serves the claim in order, without a sort (%s)', async (_label, applicationName, sql) => {
    await opened.store.migrate();
    const now = new Date(Date.now() - 1000);
    const rows: BackgroundJobRecord[] = Array.from({ length: 5000 }, (_, i) => ({
      id: randomUUID(),
      applicationName: i % 2 === 0 ? null : 'app',
      jobName: 'MyReportJobArgs',
      jobArgs: `{"content":"${i}"}`,
      tryCount: i % 3,
      creationTime: now,
      nextTryTime: now,
      lastTryTime: null,
      isAbandoned: i % 7 === 0,
      priority: 5 + (i % 4) * 5,
      completionTime: null,
      extraProperties: '{}',
      concurrencyStamp: randomBytes(16).toString('hex'),
    }));
    await opened.store.insert(rows);

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
});

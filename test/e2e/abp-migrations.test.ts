import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { Client } from 'pg';
import { abpMigrations } from '../support/abp-migrations';
import { backends } from '../support/backends';
import type { TestDatabase } from '../support/databases';
import { legacyTables } from '../support/legacy-tables';
import { createLimitedLogin, LimitedLogin } from '../support/limited-logins';
import { NodeProcess } from '../support/node-process';
import { waitFor } from '../support/wait-for';
import { DIST_DIR, spawnApp, startWeb, startWorker, WebApp } from './support/apps';
import { BrowserSession } from './support/browser-session';

/**
 * The built apps on a table an ABP 9.1 app made, through that app's upgrade, on PostgreSQL: run as
 * a login that may only read and write rows (the table's owner is ABP's migration login), they
 * refuse to start until `npm run migrate` ran as the owner, then run jobs without the
 * ApplicationName filter; ABP's own EF Core DDL for 9.2 and 10.6 succeeds while they run, and they
 * keep running jobs; restarted (after `npm run migrate` again), they filter by ApplicationName and
 * keep succeeded jobs.
 */
jest.setTimeout(180_000);

const postgres = backends.find((b) => b.name === 'postgres')!;
const APP = 'MyApp';

describe("the apps on an ABP 9.1 table, through ABP's own migrations: postgres", () => {
  let db: TestDatabase;
  let login: LimitedLogin;
  let web: WebApp | undefined;
  let worker: NodeProcess | undefined;

  const asOwner = async (statements: string[]) => {
    const client = new Client({ connectionString: db.connectionString });
    await client.connect();
    try {
      const results: Array<Record<string, unknown>[]> = [];
      for (const statement of statements) results.push((await client.query<Record<string, unknown>>(statement)).rows);
      return results;
    } finally {
      await client.end();
    }
  };
  const appsEnv = (extra: Record<string, string> = {}) => ({
    connectionString: login.connectionString,
    env: { AbpBackgroundJobWorker__ApplicationName: APP, ...extra },
  });
  const migrateAsOwner = async () => {
    const migrate = new NodeProcess({
      name: 'migrate',
      script: resolve(DIST_DIR, 'migrate.js'),
      env: {
        ConnectionStrings__AbpBackgroundJobs: login.connectionString,
        ConnectionStrings__AbpBackgroundJobsMigration: db.connectionString,
      },
    });
    const exit = await migrate.closedWithin(60_000);
    // It also says what a missing ApplicationName means (a warning), before the line that it is done.
    expect([exit.code, migrate.rawStdout.at(-1), migrate.stderr]).toEqual([
      0,
      'AbpBackgroundJobs table ready (postgres)',
      '',
    ]);
    // Our tables beside ABP's are new: the DBA's grant covers them too.
    await login.grantOnTables();
  };
  /** Posts the page's form and waits for the worker to run the job. */
  const runJobThroughTheApps = async () => {
    const content = `job ${randomBytes(6).toString('hex')}`;
    const browser = new BrowserSession(web!.baseUrl);
    const posted = await browser.postForm('/', { _csrf: await browser.openForm(), ReportContent: content });
    expect(posted.status).toBe(303);
    await worker!.waitForLog(`Executing MyReportJob with args: ${content}`, 30_000);
    return content;
  };
  const stopApps = async () => {
    const exits = await Promise.all([web?.app.stop(), worker?.stop()]);
    web = worker = undefined;
    return exits;
  };
  const columns = async () =>
    (
      await asOwner([
        `SELECT column_name FROM information_schema.columns WHERE table_name = 'AbpBackgroundJobs' ORDER BY ordinal_position`,
      ])
    )[0].map((r) => r.column_name as string);

  beforeAll(async () => {
    db = await postgres.create();
    await asOwner(legacyTables.postgres.statements);
    login = await createLimitedLogin('postgres', db);
  });

  afterAll(async () => {
    await stopApps();
    await db?.drop();
    await login?.drop();
  });

  it('as a login that may only read and write rows, the worker refuses to start, saying which permission and how to migrate as another', async () => {
    const refused = spawnApp('worker', {
      ConnectionStrings__AbpBackgroundJobs: login.connectionString,
      Logging__Format: 'json',
    });
    const exit = await refused.closedWithin(60_000);
    expect(exit.code).toBe(1);
    expect(refused.output()).toMatch(
      /Migrating AbpBackgroundJobs failed while creating our index IX_AbpBackgroundJobs_Dequeue on AbpBackgroundJobs: the database login may not \(must be owner of table AbpBackgroundJobs\)/,
    );
    expect(refused.output()).toContain(
      'set ConnectionStrings__AbpBackgroundJobsMigration to its connection string and run `npm run migrate`',
    );

    await migrateAsOwner();
    // Nothing of ABP's was added: ABP's own migrations will add it.
    expect(await columns()).not.toEqual(expect.arrayContaining(['ApplicationName']));
    expect(await columns()).not.toEqual(expect.arrayContaining(['CompletionTime']));
  });

  it('then the apps start as that login and run jobs, without the ApplicationName filter, saying so once', async () => {
    web = await startWeb(appsEnv());
    worker = await startWorker(appsEnv());
    await runJobThroughTheApps();
    const warnings = worker.messages().filter((m) => m.includes('has no ApplicationName column'));
    expect(warnings).toEqual([expect.stringMatching(/without the ApplicationName filter, as ABP 9\.1 did/)]);
  });

  it("ABP's own 9.2 and 10.6 migrations succeed while the apps run, and the apps keep running jobs", async () => {
    for (const migration of abpMigrations.postgres) {
      await asOwner(migration.statements);
      await runJobThroughTheApps();
    }
    expect(await columns()).toEqual(expect.arrayContaining(['ApplicationName', 'CompletionTime']));
  });

  it('restarted after `npm run migrate`, they write and run jobs of their ApplicationName and keep succeeded ones', async () => {
    const ok = { code: 0, signal: null };
    expect(await stopApps()).toEqual([ok, ok]);
    await migrateAsOwner();
    web = await startWeb(appsEnv());
    worker = await startWorker(appsEnv({ AbpBackgroundJobWorker__StoreSuccessfulJobs: 'true' }));
    const content = await runJobThroughTheApps();
    expect(worker.messages().filter((m) => m.includes('has no ApplicationName column'))).toEqual([]);
    const [kept] = await waitFor('the succeeded row to be kept', async () => {
      const [rows] = await asOwner([
        `SELECT "ApplicationName", "CompletionTime" FROM "AbpBackgroundJobs" WHERE "JobArgs" LIKE '%${content}%'`,
      ]);
      return rows.length === 1 && rows[0].CompletionTime !== null ? rows : undefined;
    });
    expect(kept.ApplicationName).toBe(APP);
    const ok2 = { code: 0, signal: null };
    expect(await stopApps()).toEqual([ok2, ok2]);
  });
});

import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { backends } from '../support/backends';
import { openStore } from '../support/open-store';
import { waitFor } from '../support/wait-for';
import { spawnApp } from './support/apps';
import { appsOnFreshDatabase } from './support/apps-on-database';
import { BrowserSession } from './support/browser-session';
import { skipUnavailable } from './support/e2e-backends';

jest.setTimeout(60_000);

/** The tables whose names hold "BackgroundJob" (SQLite and PostgreSQL). */
async function tables(dataSource: DataSource, backend: string): Promise<string[]> {
  const rows = await dataSource.query<{ n: string }[]>(
    backend === 'sqlite'
      ? `SELECT name AS n FROM sqlite_master WHERE type = 'table' AND name LIKE '%BackgroundJob%'`
      : `SELECT table_name AS n FROM information_schema.tables WHERE table_name LIKE '%BackgroundJob%'`,
  );
  return rows.map((r) => r.n).sort();
}

/**
 * BackgroundJobs__DbTablePrefix with the real apps: the web app enqueues into AppBackgroundJobs,
 * the worker (same setting) runs the job from it, and no AbpBackgroundJobs table is made.
 */
describe.each(backends.filter((b) => b.name === 'sqlite' || b.name === 'postgres').map((b) => [b.name, b] as const))(
  'BackgroundJobs__DbTablePrefix=App on %s',
  (_label, backend) => {
    if (skipUnavailable(backend)) return;
    const apps = appsOnFreshDatabase(backend, { worker: true, env: { BackgroundJobs__DbTablePrefix: 'App' } });

    it('the form enqueues into AppBackgroundJobs and the worker runs the job from it', async () => {
      const content = `prefixed ${randomBytes(6).toString('hex')}`;
      const browser = new BrowserSession(apps.web.baseUrl);
      const posted = await browser.postForm('/', { _csrf: await browser.openForm(), ReportContent: content });
      expect(posted.status).toBe(303);
      await apps.worker.waitForLog(`Executing MyReportJob with args: ${content}`);

      const opened = await openStore(apps.db.connectionString, backend.provider, { tablePrefix: 'App' });
      try {
        await waitFor('the job to leave AppBackgroundJobs', async () => (await opened.store.count()) === 0);
        expect(await tables(opened.dataSource, backend.name)).toEqual([
          'AppBackgroundJobCancellations',
          'AppBackgroundJobEnqueueKeys',
          // SQLite's named locks (no server-side locks there).
          ...(backend.name === 'sqlite' ? ['AppBackgroundJobLocks'] : []),
          'AppBackgroundJobSchedules',
          'AppBackgroundJobWorkers',
          'AppBackgroundJobs',
        ]);
      } finally {
        await opened.close();
      }
    });
  },
);

describe('bad table names', () => {
  it.each([
    ['BackgroundJobs__DbTablePrefix', 'App-1', 'BackgroundJobs__DbTablePrefix="App-1"'],
    ['BackgroundJobs__DbSchema', 'jobs', 'SQLite has no schemas'],
  ])('%s=%s stops the worker with exit code 1 and says why', async (setting, value, message) => {
    const app = spawnApp('worker', {
      ConnectionStrings__AbpBackgroundJobs: 'Data Source=:memory:',
      Logging__Format: 'json',
      [setting]: value,
    });
    const { code } = await app.closedWithin(30_000);
    expect({ code, stderr: app.stderr }).toEqual({ code: 1, stderr: expect.stringContaining(message) as unknown });
  });
});

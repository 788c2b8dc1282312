import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteDatabase, TestDatabase } from '../support/databases';
import { NodeProcess } from '../support/node-process';
import { AppKind, spawnApp, startWeb, startWorker } from './support/apps';
import { BrowserSession } from './support/browser-session';
import { countJobRows } from './support/job-table';

jest.setTimeout(60_000);

describe('settings', () => {
  let db: TestDatabase;
  beforeAll(async () => (db = await createSqliteDatabase()));
  afterAll(() => db?.drop());

  it.each<[AppKind, string, string]>([
    ['worker', 'AbpBackgroundJobWorker__JobPollPeriod', 'abc'],
    ['web', 'PORT', 'eighty'],
  ])('a bad setting stops the %s with exit code 1, naming %s and its value', async (kind, setting, value) => {
    const app = spawnApp(kind, {
      ConnectionStrings__AbpBackgroundJobs: db.connectionString,
      Logging__Format: 'json',
      [setting]: value,
    });
    const { code } = await app.closedWithin(30_000);
    expect({ code, stderr: app.stderr }).toEqual({
      code: 1,
      stderr: expect.stringContaining(`${setting}=${JSON.stringify(value)}`) as unknown,
    });
    // One clear message, not a framework stack trace before it.
    expect(app.stderr).toMatch(new RegExp(`^${kind} failed to start: Invalid settings:\n`));
    expect(app.stderr).not.toMatch(/\n\s+at /);
  });

  it('with ConnectionStrings__AbpBackgroundJobs unset, both apps share data/background-jobs.db under the working directory', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'bj-e2e-cwd-'));
    const file = join(cwd, 'data', 'background-jobs.db');
    const web = await startWeb({ connectionString: undefined, cwd });
    let worker: NodeProcess | undefined;
    try {
      expect(existsSync(file)).toBe(true);
      const browser = new BrowserSession(web.baseUrl);
      expect(
        (await browser.postForm('/', { _csrf: await browser.openForm(), ReportContent: 'default database' })).status,
      ).toBe(303);
      expect(await countJobRows(`Data Source=${file}`)).toBe(1);

      worker = await startWorker({ connectionString: undefined, cwd });
      await worker.waitForLog('Executing MyReportJob with args: default database');
      const ok = { code: 0, signal: null };
      expect(await Promise.all([web.app.stop(), worker.stop()])).toEqual([ok, ok]);
    } finally {
      await Promise.all([web.app.stop(), worker?.stop()]);
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteDatabase, TestDatabase } from '../support/databases';
import { AppKind, AppProcess } from './support/app-process';
import { startWeb, startWorker } from './support/apps';
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
    const app = new AppProcess(kind, { ConnectionStrings__AbpBackgroundJobs: db.connectionString, Logging__Format: 'json', [setting]: value });
    const timer = setTimeout(() => void app.stop(), 30_000);
    const code = await app.exited;
    clearTimeout(timer);
    expect({ code, stderr: app.stderr }).toEqual({ code: 1, stderr: expect.stringContaining(`${setting}=${JSON.stringify(value)}`) });
    // One clear message, not a framework stack trace before it.
    expect(app.stderr).toMatch(new RegExp(`^${kind} failed to start: Invalid settings:\n`));
    expect(app.stderr).not.toMatch(/\n\s+at /);
  });

  it('with ConnectionStrings__AbpBackgroundJobs unset, both apps share data/background-jobs.db under the working directory', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'bj-e2e-cwd-'));
    const file = join(cwd, 'data', 'background-jobs.db');
    const web = await startWeb({ connectionString: undefined, cwd });
    let worker: AppProcess | undefined;
    try {
      expect(existsSync(file)).toBe(true);
      const browser = new BrowserSession(web.baseUrl);
      expect((await browser.postForm('/', { _csrf: await browser.openForm(), ReportContent: 'default database' })).status).toBe(303);
      expect(await countJobRows(`Data Source=${file}`)).toBe(1);

      worker = await startWorker({ connectionString: undefined, cwd });
      await worker.waitForLog('Executing MyReportJob with args: default database');
    } finally {
      const codes = await Promise.all([web.app.stop(), worker?.stop()]);
      rmSync(cwd, { recursive: true, force: true });
      expect(codes).toEqual([0, worker ? 0 : undefined]);
    }
  });
});

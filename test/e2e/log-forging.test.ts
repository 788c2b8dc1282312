import { createSqliteDatabase, TestDatabase } from '../support/databases';
import { NodeProcess } from '../support/node-process';
import { spawnApp, startWeb, WebApp } from './support/apps';
import { BrowserSession } from './support/browser-session';
import { waitFor } from '../support/wait-for';

jest.setTimeout(60_000);

const FORGED_LINE = 'INFO: Executing MyReportJob with args: FORGED';

/**
 * `npm start`'s readable logs, with the real processes: a form post whose text holds a line
 * break and a line of its own cannot make the worker print that line as a log line.
 */
describe('pretty logs of a job whose args hold a line break', () => {
  let db: TestDatabase;
  let web: WebApp;
  let worker: NodeProcess;

  beforeAll(async () => {
    db = await createSqliteDatabase();
    web = await startWeb({ connectionString: db.connectionString });
    worker = spawnApp('worker', {
      ConnectionStrings__AbpBackgroundJobs: db.connectionString,
      Logging__Format: 'pretty',
      AbpBackgroundJobWorker__JobPollPeriod: '200',
    });
    // Pretty lines are not JSON, so wait on the raw output rather than waitForLog.
    await waitFor(
      'the worker to start',
      () => {
        worker.assertRunning();
        return worker.rawStdout.some((line) => line.includes('Worker started'));
      },
      30_000,
    );
  });

  afterAll(async () => {
    await Promise.all([web?.app.stop(), worker?.stop()]);
    await db?.drop();
  });

  it('prints the job as one line, the line break escaped', async () => {
    const browser = new BrowserSession(web.baseUrl);
    const posted = await browser.postForm('/', {
      _csrf: await browser.openForm(),
      ReportContent: `real\r\n${FORGED_LINE}`,
    });
    expect(posted.status).toBe(303);
    const executed = await waitFor('the worker to run the job', () =>
      worker.rawStdout.find((line) => line.includes('Executing MyReportJob with args: real')),
    );
    expect(executed).toContain(`Executing MyReportJob with args: real\\r\\n${FORGED_LINE}`);
    expect(worker.rawStdout.filter((line) => line.includes('FORGED'))).toEqual([executed]);
  });

  it('both apps exit 0 on SIGTERM after all of the above', async () => {
    expect(await Promise.all([web.app.stop(), worker.stop()])).toEqual([
      { code: 0, signal: null },
      { code: 0, signal: null },
    ]);
  });
});

import { randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { createSqliteDatabase, TestDatabase } from '../support/databases';
import { NodeProcess } from '../support/node-process';
import { waitFor } from '../support/wait-for';
import { startWeb, startWorker, WebApp } from './support/apps';
import { chromiumSkipReason, launchChromium } from './support/chromium';
import { countJobRows } from './support/job-table';

jest.setTimeout(90_000);

const OK = { code: 0, signal: null };

const skipReason = chromiumSkipReason();
if (skipReason) {
  // Visible in the run's output, not only as a quiet "skipped" count.
  console.warn(`browser.test.ts skipped: ${skipReason}`);
}

/** The seed's page in a real headless Chromium: type, click Add, see the alert, see the worker run it. */
(skipReason ? describe.skip : describe)('the page in Chromium', () => {
  let db: TestDatabase;
  let web: WebApp;
  let worker: NodeProcess;
  let browser: Browser;

  beforeAll(async () => {
    db = await createSqliteDatabase();
    [web, worker, browser] = await Promise.all([
      startWeb({ connectionString: db.connectionString }),
      startWorker({ connectionString: db.connectionString }),
      launchChromium(),
    ]);
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all([web?.app.stop(), worker?.stop()]);
    await db?.drop();
  });

  it('queues the typed text, shows "Job is queued!", and the worker executes it; everything loads from this site', async () => {
    const page = await browser.newPage();
    const requests: string[] = [];
    const problems: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    page.on('console', (message) => message.type() === 'error' && problems.push(`console: ${message.text()}`));
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`));
    page.on(
      'response',
      (response) => response.status() >= 400 && problems.push(`${response.status()}: ${response.url()}`),
    );

    await page.goto(web.baseUrl);
    const content = `hello ${randomBytes(6).toString('hex')}`;
    await page.fill('#ReportContent', content);
    await Promise.all([
      page.waitForURL(`${web.baseUrl}/`, { waitUntil: 'load' }),
      page.click('button:has-text("Add")'),
    ]);

    await page.locator('.alert-success').waitFor();
    expect((await page.locator('.alert').allInnerTexts()).map((t) => t.trim())).toEqual(['Job is queued!']);
    await worker.waitForLog(`Executing MyReportJob with args: ${content}`);
    await waitFor('the table to be empty', async () => (await countJobRows(db.connectionString)) === 0);

    // Bootstrap is served by the app itself and really applied (its primary button colour).
    expect(requests).toContain(`${web.baseUrl}/lib/bootstrap/css/bootstrap.min.css`);
    expect(requests).toContain(`${web.baseUrl}/lib/bootstrap/js/bootstrap.bundle.min.js`);
    expect(await page.evaluate("getComputedStyle(document.querySelector('button.btn-primary')).backgroundColor")).toBe(
      'rgb(13, 110, 253)',
    );
    // Bootstrap's JS runs too: the alert's close button dismisses it.
    await page.click('.alert .btn-close');
    await page.locator('.alert').waitFor({ state: 'detached' });

    // Back shows the form again, ready to use, without the one-time alert coming back from a cache.
    await page.goBack({ waitUntil: 'load' });
    expect(await page.locator('.alert').count()).toBe(0);
    expect(await page.locator('button[type=submit]').isEnabled()).toBe(true);

    expect(requests.filter((url) => new URL(url).origin !== web.baseUrl)).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
    expect(await Promise.all([web.app.stop(), worker.stop()])).toEqual([OK, OK]);
  });
});

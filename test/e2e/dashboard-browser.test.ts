import { tmpdir } from 'node:os';
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createSqliteDatabase, TestDatabase } from '../support/databases';
import { NodeProcess } from '../support/node-process';
import { startWeb, startWorker, WebApp } from './support/apps';
import { chromiumSkipReason, launchChromium } from './support/chromium';
import { claimRows, DASHBOARD_JOB_NAME, findRow, insertRows, lastError, rowIn } from './support/dashboard-rows';

jest.setTimeout(120_000);

/**
 * Where the screenshots go: the README's copies under docs/ only when SCREENSHOTS_DIR=docs asks for
 * them (so a test run leaves the tree clean), a temporary folder otherwise.
 */
const DOCS = process.env.SCREENSHOTS_DIR
  ? resolve(__dirname, '../..', process.env.SCREENSHOTS_DIR)
  : resolve(tmpdir(), 'dashboard-screenshots');
const HOSTILE = '<script>alert("x")</script>';
const OK = { code: 0, signal: null };

const skipReason = chromiumSkipReason();
if (skipReason) console.warn(`dashboard-browser.test.ts skipped: ${skipReason}`);

/**
 * The dashboard of the built web app in headless Chromium, with the built worker running beside
 * it: every page and action clicked as an operator would, the counts refreshed by the page's
 * script, hostile rows shown as text, and every page usable with JavaScript off. Takes the two
 * screenshots the README shows (`SCREENSHOTS_DIR=docs` writes them there).
 */
(skipReason ? describe.skip : describe)('the dashboard in Chromium', () => {
  let db: TestDatabase;
  let web: WebApp;
  let worker: NodeProcess;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const requests: string[] = [];
  const problems: string[] = [];

  const rows = {
    waiting: [rowIn.waiting({ priority: 25 }), rowIn.waiting({ jobName: 'InvoiceMailArgs' })],
    scheduled: [rowIn.scheduled(), rowIn.scheduled({ jobName: 'InvoiceMailArgs' })],
    retrying: rowIn.retrying({
      jobArgs: JSON.stringify({ content: 'Q3 sales by region', format: 'xlsx', recipients: ['ops@example.com'] }),
    }),
    abandoned: [
      rowIn.abandoned(),
      rowIn.abandoned(),
      rowIn.abandoned(),
      rowIn.abandoned({ jobName: 'InvoiceMailArgs' }),
    ],
    processing: rowIn.processing(),
    bigArgs: rowIn.waiting({ jobName: 'BulkImportArgs', jobArgs: JSON.stringify({ content: 'x'.repeat(1_048_000) }) }),
    /** Due again and retrying: the test has a "worker" take it while its page is open. */
    takenLater: rowIn.retrying({ jobName: 'TakenLaterArgs', nextTryTime: new Date(Date.now() - 1000) }),
  };

  const url = (path: string) => `${web.baseUrl}${path}`;
  const countOf = (state: string) => page.locator(`#bj-state-counts [data-count="${state}"]`).innerText();
  const alerts = async () => (await page.locator('.alert').allInnerTexts()).map((text) => text.trim());

  beforeAll(async () => {
    db = await createSqliteDatabase();
    [web, worker, browser] = await Promise.all([
      startWeb({ connectionString: db.connectionString }),
      startWorker({ connectionString: db.connectionString }),
      launchChromium(),
    ]);
    await insertRows(db.connectionString, [
      ...rows.waiting,
      ...rows.scheduled,
      rows.retrying,
      ...rows.abandoned,
      rows.processing,
      rows.bigArgs,
      rows.takenLater,
    ]);
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    context.on('request', (request) => requests.push(request.url()));
    context.on('console', (message) => message.type() === 'error' && problems.push(`console: ${message.text()}`));
    context.on('weberror', (error) => problems.push(`page error: ${error.error().message}`));
    page = await context.newPage();
    page.on('dialog', (dialog) => {
      problems.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
    await mkdir(DOCS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all([web?.app.stop(), worker?.stop()]);
    await db?.drop();
  });

  it('opens from the seed page\'s "Jobs" link: counts per state and per job name, refreshed by its script', async () => {
    await page.goto(web.baseUrl);
    await Promise.all([page.waitForURL(url('/jobs')), page.click('nav a:has-text("Jobs")')]);
    expect(await countOf('waiting')).toBe('3');
    expect(await countOf('abandoned')).toBe('4');
    expect(await countOf('processing')).toBe('1');
    expect(await countOf('succeeded')).toBe('not kept');
    const invoiceRow = page.locator('#bj-by-job-name tr[data-job-name="InvoiceMailArgs"]');
    expect(await invoiceRow.locator('[data-count="abandoned"]').innerText()).toBe('1');

    // A row written meanwhile shows up without a reload.
    await insertRows(db.connectionString, [rowIn.scheduled({ jobName: 'InvoiceMailArgs' })]);
    await page.locator('#bj-state-counts [data-count="scheduled"]', { hasText: /^3$/ }).waitFor({ timeout: 15_000 });
    expect(await invoiceRow.locator('[data-count="scheduled"]').innerText()).toBe('2');
    await page.screenshot({ path: resolve(DOCS, 'dashboard-overview.png'), fullPage: true });
  });

  it('lists a state, filters it by job name, and finds a job by id', async () => {
    await page.click('#bj-state-counts a[href="/jobs/states/abandoned"]');
    await page.waitForURL(url('/jobs/states/abandoned'));
    expect(await page.locator('table.bj-list tbody tr').count()).toBe(4);
    await page.fill('#bj-filter input[name="jobName"]', 'InvoiceMailArgs');
    await Promise.all([page.waitForURL(/jobName=InvoiceMailArgs/), page.click('#bj-filter button[type="submit"]')]);
    expect(await page.locator('table.bj-list tbody tr').count()).toBe(1);

    await page.fill('#bj-find input[name="id"]', rows.retrying.id);
    await Promise.all([page.waitForURL(url(`/jobs/jobs/${rows.retrying.id}`)), page.click('#bj-find button')]);
    expect(await page.locator('h4').innerText()).toBe(DASHBOARD_JOB_NAME);
  });

  it('shows a job: every column, the args as indented JSON, the last error with its stack', async () => {
    await page.goto(url(`/jobs/jobs/${rows.retrying.id}`));
    const columns = await page.locator('table.bj-columns th').allInnerTexts();
    expect(columns).toEqual([
      'Id',
      'ApplicationName',
      'JobName',
      'TryCount',
      'CreationTime',
      'NextTryTime',
      'LastTryTime',
      'IsAbandoned',
      'Priority',
      'CompletionTime',
      'ConcurrencyStamp',
    ]);
    expect(await page.locator('#bj-args').innerText()).toBe(JSON.stringify(JSON.parse(rows.retrying.jobArgs), null, 2));
    expect(await page.locator('#bj-last-error').innerText()).toContain('Error: the export server said 503');
    expect(await page.locator('#bj-last-error').innerText()).toContain('at ReportExportJob.execute');
    expect(await page.locator('#bj-actions button').allInnerTexts()).toEqual(['Requeue', 'Delete', 'Cancel']);
    await page.screenshot({ path: resolve(DOCS, 'dashboard-job.png'), fullPage: true });
  });

  it('cuts a 1 MB args value on the page and downloads it whole', async () => {
    await page.goto(url(`/jobs/jobs/${rows.bigArgs.id}`));
    expect(await page.locator('#bj-args-cut').innerText()).toContain('download the whole value');
    expect((await page.locator('#bj-args').innerText()).length).toBeLessThan(30_000);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#bj-args-cut a')]);
    expect(readFileSync(await download.path(), 'utf8')).toBe(rows.bigArgs.jobArgs);
  });

  it('requeues, runs now and deletes one job from its page, each saying what it did', async () => {
    await page.goto(url(`/jobs/jobs/${rows.abandoned[0].id}`));
    await Promise.all([page.waitForURL(/action=requeue/), page.click('#bj-actions button:has-text("Requeue")')]);
    expect(await alerts()).toEqual(['The job was requeued.']);
    expect(await page.locator('.bj-state-badge').innerText()).toBe('Waiting');

    await page.goto(url(`/jobs/jobs/${rows.scheduled[0].id}`));
    await Promise.all([page.waitForURL(/action=run-now/), page.click('#bj-actions button:has-text("Run now")')]);
    expect(await alerts()).toEqual(['The job was made due now.']);
    expect((await findRow(db.connectionString, rows.scheduled[0].id))!.nextTryTime.getTime()).toBeLessThanOrEqual(
      Date.now(),
    );

    await page.goto(url(`/jobs/jobs/${rows.waiting[0].id}`));
    await Promise.all([
      page.waitForURL(/states\/waiting\?action=delete/),
      page.click('#bj-actions button:has-text("Delete")'),
    ]);
    expect(await alerts()).toEqual(['The job was deleted.']);
    expect(await findRow(db.connectionString, rows.waiting[0].id)).toBeUndefined();
  });

  it('cancels a waiting job from its page, and opens the Schedules page from the tabs', async () => {
    const toCancel = rowIn.waiting({ jobName: 'CancelMeArgs' });
    await insertRows(db.connectionString, [toCancel]);
    await page.goto(url(`/jobs/jobs/${toCancel.id}`));
    await Promise.all([page.waitForURL(/cancel=cancelled/), page.click('#bj-cancel button')]);
    expect((await alerts())[0]).toMatch(/^The job was cancelled: it will not run/);
    expect(await page.locator('.bj-state-badge').innerText()).toBe('Abandoned');
    expect(await page.locator('#bj-cancel').count()).toBe(0);
    await Promise.all([page.waitForURL(url('/jobs/schedules')), page.click('.bj-nav a:has-text("Schedules")')]);
    expect(await page.locator('#bj-schedules tbody').innerText()).toContain('No schedules.');
  });

  it('refuses an action on a job a worker took meanwhile, with a message that says so', async () => {
    await page.goto(url(`/jobs/jobs/${rows.takenLater.id}`));
    expect(await page.locator('#bj-actions button').allInnerTexts()).toEqual(['Requeue', 'Delete', 'Cancel']);
    expect(await claimRows(db.connectionString, 'TakenLaterArgs')).toEqual([rows.takenLater.id]);
    await Promise.all([page.waitForURL(/action=requeue/), page.click('#bj-actions button:has-text("Requeue")')]);
    expect(await alerts()).toEqual([
      'Refused: a worker holds this job (it is running it now), so it was not requeued. Try again when it has finished.',
    ]);
    expect(await page.locator('.bj-state-badge').innerText()).toBe('Processing');
  });

  it('requeues a selection, then all abandoned of one job name; deleting them all needs the box ticked', async () => {
    await page.goto(url('/jobs/states/abandoned'));
    await page.check(`input[name="ids"][value="${rows.abandoned[1].id}"]`);
    await page.check(`input[name="ids"][value="${rows.abandoned[3].id}"]`);
    await Promise.all([page.waitForURL(/action=requeue/), page.click('#bj-selection button[value="requeue"]')]);
    expect(await alerts()).toEqual(['2 jobs requeued.']);

    await insertRows(db.connectionString, [rowIn.abandoned(), rowIn.abandoned({ jobName: 'InvoiceMailArgs' })]);
    await page.goto(url(`/jobs/states/abandoned?jobName=${DASHBOARD_JOB_NAME}`));
    await Promise.all([
      page.waitForURL(/action=requeue/),
      page.click('#bj-all-of-name button:has-text("Requeue all")'),
    ]);
    expect(await alerts()).toEqual(['2 jobs requeued.']);

    await page.goto(url('/jobs/states/abandoned?jobName=InvoiceMailArgs'));
    await page.click('#bj-all-of-name button:has-text("Delete all")');
    // The browser itself keeps the form until "I mean it" is ticked (required), without script.
    expect(page.url()).toBe(url('/jobs/states/abandoned?jobName=InvoiceMailArgs'));
    await page.check('#bj-confirm-delete-all');
    await Promise.all([page.waitForURL(/action=delete/), page.click('#bj-all-of-name button:has-text("Delete all")')]);
    expect(await alerts()).toEqual(['1 job deleted.']);
    expect(await page.locator('table.bj-list tbody tr').innerText()).toContain(
      'No abandoned jobs named InvoiceMailArgs',
    );
  });

  it('shows the live worker', async () => {
    await page.goto(url('/jobs/workers'));
    const cells = await page.locator('#bj-workers tbody tr').first().locator('td').allInnerTexts();
    expect(cells[1]).toBe(String(worker.child.pid));
    expect(cells[3]).toContain('MyReportJobArgs');
  });

  it('shows hostile names, args and errors as text on every page: nothing of theirs runs', async () => {
    const hostile = rowIn.abandoned({
      jobName: HOSTILE,
      applicationName: null,
      jobArgs: JSON.stringify({ content: `</code></pre>${HOSTILE}<img src=x onerror=alert(1)>` }),
      extraProperties: lastError(`Error: ${HOSTILE}`, 3),
    });
    await insertRows(db.connectionString, [hostile]);
    for (const path of [
      '/jobs',
      '/jobs/states/abandoned',
      `/jobs/states/abandoned?jobName=${encodeURIComponent(HOSTILE)}`,
      `/jobs/jobs/${hostile.id}`,
    ]) {
      await page.goto(url(path));
      expect(await page.locator('main').innerText()).toContain(HOSTILE);
      // The only scripts are the site's own files.
      const scripts = page.locator('script');
      const sources = await Promise.all(
        Array.from({ length: await scripts.count() }, (_, i) => scripts.nth(i).getAttribute('src')),
      );
      expect(sources.every((src) => src !== null && src.startsWith('/'))).toBe(true);
      expect(await page.locator('img').count()).toBe(0);
    }
    await page.waitForTimeout(500);
    expect(problems).toEqual([]);
  });

  it('works without JavaScript: filter, find and an action are plain forms and links', async () => {
    const noScript = await browser.newContext({ javaScriptEnabled: false });
    const plain = await noScript.newPage();
    await plain.goto(url(`/jobs/states/retrying`));
    await plain.fill('#bj-find input[name="id"]', rows.retrying.id);
    await Promise.all([plain.waitForURL(url(`/jobs/jobs/${rows.retrying.id}`)), plain.click('#bj-find button')]);
    await Promise.all([plain.waitForURL(/action=requeue/), plain.click('#bj-actions button:has-text("Requeue")')]);
    expect((await plain.locator('.alert').allInnerTexts()).map((text) => text.trim())).toEqual([
      'The job was requeued.',
    ]);
    expect((await findRow(db.connectionString, rows.retrying.id))?.tryCount).toBe(0);
    await noScript.close();
  });

  it('loaded everything from this site with no script error or refused request, and both apps exit 0', async () => {
    expect(requests.filter((address) => new URL(address).origin !== web.baseUrl)).toEqual([]);
    expect(requests).toContain(url('/jobs/api/stats'));
    expect(problems).toEqual([]);
    await context.close();
    expect(await Promise.all([web.app.stop(), worker.stop()])).toEqual([OK, OK]);
  });
});

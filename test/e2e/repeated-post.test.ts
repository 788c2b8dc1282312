import { e2eCases, skipUnavailable } from './support/e2e-backends';
import { backends } from '../support/backends';
import { appsOnFreshDatabase } from './support/apps-on-database';
import { alertsOf, BrowserSession, csrfTokenOf, reportContentOf } from './support/browser-session';
import { countJobRows, readJobRows } from './support/job-table';
import { LostReplyProxy } from './support/lost-reply-proxy';
import { webBehindProxyOnFreshDatabase } from './support/web-behind-proxy';
import { waitFor } from '../support/wait-for';

jest.setTimeout(60_000);

/** The one-time submission id the page hands out beside the CSRF token. */
function submissionIdOf(html: string): string {
  const id = /<input[^>]*name="_submission"[^>]*value="([^"]*)"/.exec(html)?.[1];
  if (!id) throw new Error('The page has no _submission hidden input');
  return id;
}

async function openForm(browser: BrowserSession): Promise<{ _csrf: string; _submission: string }> {
  const page = await browser.get('/');
  return { _csrf: csrfTokenOf(page.html), _submission: submissionIdOf(page.html) };
}

async function contents(connectionString: string): Promise<string[]> {
  return (await readJobRows(connectionString))
    .map((row) => (JSON.parse(row.JobArgs) as { content: string }).content)
    .sort();
}

/**
 * A form post is idempotent: the page hands out a one-time submission id and the job's id derives
 * from it, so sending the same form again (after an answer that was lost, or a 503) finds the
 * first job instead of queueing a second. No worker runs, so every row written stays to be counted.
 */
describe.each(e2eCases)('a repeated form post on %s', (_label, backend) => {
  if (skipUnavailable(backend)) return;
  const apps = appsOnFreshDatabase(backend);

  it('hands out a new submission id with every copy of the form', async () => {
    const browser = new BrowserSession(apps.web.baseUrl);
    const [first, second] = [await openForm(browser), await openForm(browser)];
    expect(first._submission).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(second._submission).not.toBe(first._submission);
  });

  it('queues the job once when the same form is sent twice, and says "Job is queued!" both times', async () => {
    const browser = new BrowserSession(apps.web.baseUrl);
    const form = { ...(await openForm(browser)), ReportContent: 'sent twice' };
    for (let i = 0; i < 2; i++) {
      const posted = await browser.postForm('/', form);
      expect(posted.status).toBe(303);
      expect(alertsOf((await browser.get('/')).html)).toEqual([{ type: 'success', text: 'Job is queued!' }]);
    }
    expect((await contents(apps.db.connectionString)).filter((c) => c === 'sent twice')).toHaveLength(1);
  });

  it('queues a second job when the form is sent again with another text, or is a new copy', async () => {
    const browser = new BrowserSession(apps.web.baseUrl);
    const form = await openForm(browser);
    expect((await browser.postForm('/', { ...form, ReportContent: 'first text' })).status).toBe(303);
    expect((await browser.postForm('/', { ...form, ReportContent: 'changed text' })).status).toBe(303);
    expect((await browser.postForm('/', { ...(await openForm(browser)), ReportContent: 'first text' })).status).toBe(
      303,
    );
    const rows = await contents(apps.db.connectionString);
    expect(rows.filter((c) => c === 'first text')).toHaveLength(2);
    expect(rows.filter((c) => c === 'changed text')).toHaveLength(1);
  });

  it('refuses a submission id it did not hand out, with 400, and queues nothing', async () => {
    const browser = new BrowserSession(apps.web.baseUrl);
    const before = (await contents(apps.db.connectionString)).length;
    const response = await browser.postForm('/', {
      ...(await openForm(browser)),
      _submission: 'x'.repeat(40),
      ReportContent: 'tampered',
    });
    expect(response.status).toBe(400);
    expect(alertsOf(response.html)).toEqual([
      { type: 'danger', text: expect.stringMatching(/reload the page/) as unknown },
    ]);
    expect(await contents(apps.db.connectionString)).toHaveLength(before);
  });

  it('exits 0 on SIGTERM after all of the above', async () => {
    expect(await apps.web.app.stop()).toEqual({ code: 0, signal: null });
  });
});

/**
 * A form sent again after its job has run: ABP deleted the job's row, but the enqueue key kept
 * beside it still names the job, so the repeat is recognised and the job does not run twice.
 */
describe.each(e2eCases)('a form sent again after its job has run on %s', (_label, backend) => {
  if (skipUnavailable(backend)) return;
  const apps = appsOnFreshDatabase(backend, { worker: true });

  it('says "Job is queued!" again, writes no row, and the job does not run a second time', async () => {
    const browser = new BrowserSession(apps.web.baseUrl);
    const form = { ...(await openForm(browser)), ReportContent: 'ran before the repeat' };
    const executed = 'Executing MyReportJob with args: ran before the repeat';
    expect((await browser.postForm('/', form)).status).toBe(303);
    await apps.worker.waitForLog(executed);
    await waitFor('the job row to be deleted', async () => (await countJobRows(apps.db.connectionString)) === 0);

    const again = await browser.postForm('/', form);
    expect(again.status).toBe(303);
    expect(alertsOf((await browser.get('/')).html)).toEqual([{ type: 'success', text: 'Job is queued!' }]);
    expect(await countJobRows(apps.db.connectionString)).toBe(0);

    // A new form queued after the repeat runs after anything the repeat could have queued.
    expect(
      (await browser.postForm('/', { ...(await openForm(browser)), ReportContent: 'queued after the repeat' })).status,
    ).toBe(303);
    await apps.worker.waitForLog('Executing MyReportJob with args: queued after the repeat');
    await waitFor('the table to be empty', async () => (await countJobRows(apps.db.connectionString)) === 0);
    expect(apps.worker.messages().filter((msg) => msg === executed)).toHaveLength(1);
  });

  it('both apps exit 0 on SIGTERM after all of the above', async () => {
    const ok = { code: 0, signal: null };
    expect(await Promise.all([apps.web.app.stop(), apps.worker.stop()])).toEqual([ok, ok]);
  });
});

/**
 * What each server's enqueue request carries, to lose the answer to exactly that request. On
 * MariaDB/MySQL a form's enqueue (its job id is chosen) is a transaction that writes the enqueue
 * key and then the row, so the answer lost is the COMMIT's.
 */
const ENQUEUE_MARKERS: Partial<Record<string, string>> = { postgres: 'bj_enqueue', mysql: 'COMMIT' };
const lostReplyCases = backends.filter((b) => ENQUEUE_MARKERS[b.name] !== undefined).map((b) => [b.name, b] as const);

describe.each(lostReplyCases)('an enqueue whose answer is lost on %s', (name, backend) => {
  const apps = webBehindProxyOnFreshDatabase(backend, (host, port) => new LostReplyProxy(host, port));

  it('answers 503 saying the job may have been queued, and sending the form again does not queue it twice', async () => {
    const browser = new BrowserSession(apps.web.baseUrl);
    const form = { ...(await openForm(browser)), ReportContent: 'answer lost' };
    const lost = apps.proxy.loseNextReplyTo(ENQUEUE_MARKERS[name]!);
    const refused = await browser.postForm('/', form);
    await lost;
    expect(refused.status).toBe(503);
    expect(alertsOf(refused.html)).toEqual([
      { type: 'warning', text: expect.stringMatching(/may or may not have been queued.*again is safe/) as unknown },
    ]);
    // The same form comes back, to be sent again as it is.
    expect(reportContentOf(refused.html)).toBe('answer lost');
    expect(submissionIdOf(refused.html)).toBe(form._submission);
    // The database had committed the row before the answer was lost.
    expect(await contents(apps.db.connectionString)).toEqual(['answer lost']);

    const again = await browser.postForm('/', {
      _csrf: csrfTokenOf(refused.html),
      _submission: submissionIdOf(refused.html),
      ReportContent: 'answer lost',
    });
    expect(again.status).toBe(303);
    expect(alertsOf((await browser.get('/')).html)).toEqual([{ type: 'success', text: 'Job is queued!' }]);
    expect(await contents(apps.db.connectionString)).toEqual(['answer lost']);
  });

  it('exits 0 on SIGTERM after all of the above', async () => {
    expect(await apps.web.app.stop()).toEqual({ code: 0, signal: null });
  });
});

import { e2eCases, skipUnavailable } from './support/e2e-backends';
import { appsOnFreshDatabase } from './support/apps-on-database';
import { alertsOf, BrowserSession, reportContentOf } from './support/browser-session';
import { countJobRows, readJobRows } from './support/job-table';

jest.setTimeout(60_000);

/** ABP's MaxJobArgsLength, counted on the JSON `{"content":"..."}` the row stores. */
const MAX_JOB_ARGS_LENGTH = 1_048_576;
const JSON_OVERHEAD = '{"content":""}'.length;

/**
 * Input the web app must refuse with a status and a message a person can act on, writing nothing.
 * No worker runs here, so any row the web app wrongly wrote would stay in the table to be counted.
 */
describe.each(e2eCases)('bad input on %s', (_label, backend) => {
  if (skipUnavailable(backend)) return;
  const apps = appsOnFreshDatabase(backend);

  async function expectRefused(
    response: { status: number; html: string },
    status: number,
    message: RegExp,
  ): Promise<void> {
    expect(response.status).toBe(status);
    const alerts = alertsOf(response.html);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toEqual({ type: 'danger', text: expect.stringMatching(message) as unknown });
    expect(await countJobRows(apps.db.connectionString)).toBe(0);
  }

  it('refuses blank ReportContent with 400', async () => {
    const browser = new BrowserSession(apps.web.baseUrl);
    const response = await browser.postForm('/', { _csrf: await browser.openForm(), ReportContent: '   ' });
    await expectRefused(response, 400, /Enter some text/);
  });

  it('refuses a text whose JobArgs would pass 1,048,576 characters with 413', async () => {
    const browser = new BrowserSession(apps.web.baseUrl);
    const content = 'a'.repeat(MAX_JOB_ARGS_LENGTH - JSON_OVERHEAD + 1);
    const response = await browser.postForm('/', { _csrf: await browser.openForm(), ReportContent: content });
    await expectRefused(response, 413, /too long/);
    // A megabyte echoed back would only make the page heavy; the message says what to do instead.
    expect(reportContentOf(response.html)).toBe('');
  });

  it('refuses a body over the 12mb limit with 413', async () => {
    const browser = new BrowserSession(apps.web.baseUrl);
    const csrf = await browser.openForm();
    const response = await browser.postBody(
      '/',
      `_csrf=${encodeURIComponent(csrf)}&ReportContent=${'a'.repeat(13 * 1024 * 1024)}`,
    );
    await expectRefused(response, 413, /too long/);
  });

  it('refuses a POST without a CSRF token with 403 and keeps the typed text, escaped', async () => {
    const browser = new BrowserSession(apps.web.baseUrl);
    await browser.openForm();
    const typed = '<script>alert("x")</script> & ü';
    const response = await browser.postForm('/', { ReportContent: typed });
    await expectRefused(response, 403, /did not come from this site/);
    expect(reportContentOf(response.html)).toBe(typed);
    expect(response.html).not.toContain('<script>alert');
  });

  it("refuses another browser's CSRF token with 403", async () => {
    const other = new BrowserSession(apps.web.baseUrl);
    const othersToken = await other.openForm();
    const browser = new BrowserSession(apps.web.baseUrl);
    await browser.openForm();
    const response = await browser.postForm('/', { _csrf: othersToken, ReportContent: 'stolen token' });
    await expectRefused(response, 403, /did not come from this site/);
  });

  it('refuses a POST from a client that never loaded the page with 403', async () => {
    const response = await new BrowserSession(apps.web.baseUrl).postForm('/', {
      _csrf: 'forged',
      ReportContent: 'forged',
    });
    await expectRefused(response, 403, /did not come from this site/);
  });

  it('accepts the form of a tab opened before another one (tokens are per browser, not per page)', async () => {
    const browser = new BrowserSession(apps.web.baseUrl);
    const firstTab = await browser.openForm();
    await browser.openForm();
    const response = await browser.postForm('/', { _csrf: firstTab, ReportContent: '' });
    // Blank on purpose: getting past CSRF to the 400 proves the token was accepted, and nothing is queued.
    await expectRefused(response, 400, /Enter some text/);
  });

  it('refuses a form of more than 1,000 fields with 413, saying so', async () => {
    const browser = new BrowserSession(apps.web.baseUrl);
    const fields = Array.from({ length: 1000 }, (_, i) => `extra${i}=x`).join('&');
    const response = await browser.postBody(
      '/',
      `_csrf=${encodeURIComponent(await browser.openForm())}&ReportContent=many&${fields}`,
    );
    await expectRefused(response, 413, /too many fields/);
  });

  it('refuses a multipart post with 415, naming the form encoding it needs', async () => {
    const browser = new BrowserSession(apps.web.baseUrl);
    const form = new FormData();
    form.set('_csrf', await browser.openForm());
    form.set('ReportContent', 'sent as multipart');
    const response = await fetch(`${apps.web.baseUrl}/`, {
      method: 'POST',
      body: form,
      headers: { accept: 'text/html' },
      redirect: 'manual',
    });
    await expectRefused(
      { status: response.status, html: await response.text() },
      415,
      /must be sent as application\/x-www-form-urlencoded/,
    );
  });

  it.each([
    ['an escape that is not two hex digits', 'caf%C3%A9 100%zz'],
    ['an escape that is not UTF-8', 'caf%C3'],
  ])('refuses %s with 400 instead of storing the text undecoded', async (_case, encoded) => {
    const browser = new BrowserSession(apps.web.baseUrl);
    const response = await browser.postBody(
      '/',
      `_csrf=${encodeURIComponent(await browser.openForm())}&ReportContent=${encoded}`,
    );
    await expectRefused(response, 400, /broken %-escape/);
  });

  it('queues a text whose JobArgs are exactly at the limit', async () => {
    const browser = new BrowserSession(apps.web.baseUrl);
    const content = 'a'.repeat(MAX_JOB_ARGS_LENGTH - JSON_OVERHEAD);
    const response = await browser.postForm('/', { _csrf: await browser.openForm(), ReportContent: content });
    expect(response.status).toBe(303);
    expect(await countJobRows(apps.db.connectionString)).toBe(1);
  });

  it('answers /health with 200 while the database is up', async () => {
    const response = await fetch(`${apps.web.baseUrl}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok' });
  });

  it('sends a content security policy without inline scripts, and the page has none', async () => {
    const page = await new BrowserSession(apps.web.baseUrl).get('/');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).not.toBe('');
    const scriptSrc = /(?:^|;)\s*script-src ([^;]*)/.exec(csp)?.[1] ?? /(?:^|;)\s*default-src ([^;]*)/.exec(csp)?.[1];
    expect(scriptSrc).toBeDefined();
    expect(scriptSrc).not.toContain("'unsafe-inline'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    // The page holds a CSRF token and one-time alerts: never from a cache.
    expect(page.headers.get('cache-control')).toContain('no-store');

    const scripts = [...page.html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/\ssrc="\/[^"]+"/);
      expect(body.trim()).toBe('');
    }
    expect(page.html).not.toMatch(/\son[a-z]+\s*=/i); // no inline event handlers either
  });

  it('binds the first of two ReportContent fields, as ASP.NET Core does', async () => {
    const browser = new BrowserSession(apps.web.baseUrl);
    const csrf = encodeURIComponent(await browser.openForm());
    const response = await browser.postBody('/', `_csrf=${csrf}&ReportContent=first+value&ReportContent=second+value`);
    expect(response.status).toBe(303);
    const contents = (await readJobRows(apps.db.connectionString)).map(
      (row) => (JSON.parse(row.JobArgs) as { content: string }).content,
    );
    expect(contents).toContain('first value');
    expect(contents.some((c) => c.includes('second value'))).toBe(false);
  });

  it('exits 0 on SIGTERM after all of the above', async () => {
    expect(await apps.web.app.stop()).toEqual({ code: 0, signal: null });
  });
});

import { randomBytes } from 'node:crypto';
import { e2eCases, skipUnavailable } from './support/e2e-backends';
import { waitFor } from '../support/wait-for';
import { appsOnFreshDatabase } from './support/apps-on-database';
import { alertsOf, BrowserSession } from './support/browser-session';
import { countJobRows } from './support/job-table';

jest.setTimeout(60_000);

/** The seed's scenario with the real processes: the web page enqueues, the separate worker runs. */
describe.each(e2eCases)('form -> web -> table -> worker on %s', (_label, backend) => {
  if (skipUnavailable(backend)) return;
  const apps = appsOnFreshDatabase(backend, { worker: true });

  it('queues the job once, shows "Job is queued!" once, and only the worker executes it', async () => {
    const content = `hello ${randomBytes(6).toString('hex')}`;
    const browser = new BrowserSession(apps.web.baseUrl);
    const csrf = await browser.openForm();

    const posted = await browser.postForm('/', { _csrf: csrf, ReportContent: content });
    expect(posted.status).toBe(303);
    expect(posted.headers.get('location')).toBe('/');

    const page = await browser.get('/');
    expect(page.status).toBe(200);
    expect(alertsOf(page.html)).toEqual([{ type: 'success', text: 'Job is queued!' }]);
    expect(page.html.split('Job is queued!')).toHaveLength(2);
    const again = await browser.get('/');
    expect(again.html).not.toContain('Job is queued!');

    const executed = `Executing MyReportJob with args: ${content}`;
    await apps.worker.waitForLog(executed);
    // Once the row is gone nothing can run it again, so the count below is final.
    await waitFor('the table to be empty', async () => (await countJobRows(apps.db.connectionString)) === 0);
    expect(apps.worker.messages().filter((msg) => msg === executed)).toHaveLength(1);
    expect(apps.web.app.messages().filter((msg) => msg.includes('Executing MyReportJob'))).toEqual([]);
  });

  it('carries any text unchanged from the form to the job: accents, astral characters, markup, quotes', async () => {
    const content = `héllo ✓ 𝄞 <b>"quoted" & 'single'</b> + 100% ${randomBytes(4).toString('hex')}`;
    const browser = new BrowserSession(apps.web.baseUrl);
    const posted = await browser.postForm('/', { _csrf: await browser.openForm(), ReportContent: content });
    expect(posted.status).toBe(303);
    await apps.worker.waitForLog(`Executing MyReportJob with args: ${content}`);
  });

  it('both apps exit 0 on SIGTERM after all of the above', async () => {
    const ok = { code: 0, signal: null };
    expect(await Promise.all([apps.web.app.stop(), apps.worker.stop()])).toEqual([ok, ok]);
  });
});

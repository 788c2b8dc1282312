import { backends } from '../support/backends';
import { alertsOf, BrowserSession, reportContentOf } from './support/browser-session';
import { countJobRows } from './support/job-table';
import { TcpProxy } from './support/tcp-proxy';
import { PROXIED_PORTS, webBehindProxyOnFreshDatabase } from './support/web-behind-proxy';
import { waitFor } from '../support/wait-for';

jest.setTimeout(90_000);

/** The backends whose server a proxy can stand in for, each named by the store's name. */
const cases = backends.filter((b) => PROXIED_PORTS[b.name] !== undefined).map((b) => [b.name, b] as const);

/**
 * The database goes away under a running web app (a proxy between them is cut) and comes back:
 * the app answers 503 meanwhile, stays up, and recovers by itself. The test reads the table
 * directly, not through the proxy.
 */
describe.each(cases)('web app during a %s outage', (name, backend) => {
  const apps = webBehindProxyOnFreshDatabase(backend, (host, port) => new TcpProxy(host, port));

  const health = async () => (await fetch(`${apps.web.baseUrl}/health`)).status;

  it('answers 503 while the database is unreachable, stays up, and recovers when it returns', async () => {
    const browser = new BrowserSession(apps.web.baseUrl);
    const csrf = await browser.openForm();
    expect(await health()).toBe(200);

    await apps.proxy.cut();
    const down = await fetch(`${apps.web.baseUrl}/health`);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({
      status: 'error',
      error: { database: { status: 'down', dialect: name, message: 'The job database is not reachable' } },
    });
    const refused = await browser.postForm('/', { _csrf: csrf, ReportContent: 'during the outage' });
    expect(refused.status).toBe(503);
    expect(alertsOf(refused.html)).toEqual([
      { type: 'warning', text: expect.stringMatching(/may or may not have been queued/) as unknown },
    ]);
    expect(reportContentOf(refused.html)).toBe('during the outage');
    expect(await countJobRows(apps.db.connectionString)).toBe(0);

    // The page itself needs no database; the app must not have crashed on the dropped connections.
    expect((await browser.get('/')).status).toBe(200);
    apps.web.app.assertRunning();

    await apps.proxy.restore();
    await waitFor('/health to answer 200 again', async () => (await health()) === 200, 30_000);
    const accepted = await browser.postForm('/', {
      _csrf: await browser.openForm(),
      ReportContent: 'after the outage',
    });
    expect(accepted.status).toBe(303);
    expect(await countJobRows(apps.db.connectionString)).toBe(1);
    expect(await apps.web.app.stop()).toEqual({ code: 0, signal: null });
  });
});

import { createSqliteDatabase, TestDatabase } from '../support/databases';
import { startWeb, WebApp } from './support/apps';
import { BrowserSession, csrfTokenOf } from './support/browser-session';
import { findRow, insertRows, rowIn } from './support/dashboard-rows';

jest.setTimeout(90_000);

const OK = { code: 0, signal: null };
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

async function status(baseUrl: string, path: string, headers: Record<string, string> = {}): Promise<number> {
  const response = await fetch(`${baseUrl}${path}`, { headers, redirect: 'manual' });
  await response.arrayBuffer();
  return response.status;
}

/**
 * Who gets into the built web app's dashboard, by its settings: closed to all but this machine by
 * default (the remote client is named by a trusted proxy's header: tests send only to loopback),
 * HTTP Basic auth, read-only, turned off, moved; and the forms' CSRF and same-site checks.
 */
describe('dashboard access rules of the web app', () => {
  let db: TestDatabase;
  let open: WebApp; // no Dashboard__ settings, behind a proxy on this machine (Web__TrustProxy=loopback)
  let withPassword: WebApp; // Dashboard__Username/Password, at Dashboard__Path=/ops/jobs
  let readOnly: WebApp; // Dashboard__ReadOnly=true, no trusted proxy
  let disabled: WebApp; // Dashboard__Enabled=false
  const abandoned = rowIn.abandoned();

  beforeAll(async () => {
    db = await createSqliteDatabase();
    const start = (env: Record<string, string>) => startWeb({ connectionString: db.connectionString, env });
    open = await start({ Web__TrustProxy: 'loopback' });
    [withPassword, readOnly, disabled] = await Promise.all([
      start({ Dashboard__Username: 'ops', Dashboard__Password: 'correct horse', Dashboard__Path: '/ops/jobs' }),
      start({ Dashboard__ReadOnly: 'true' }),
      start({ Dashboard__Enabled: 'false' }),
    ]);
    await insertRows(db.connectionString, [abandoned]);
  });

  afterAll(async () => {
    await Promise.all([open?.app.stop(), withPassword?.app.stop(), readOnly?.app.stop(), disabled?.app.stop()]);
    await db?.drop();
  });

  it('lets this machine in with no settings, and puts a Jobs link in the navbar of the seed page', async () => {
    expect(await status(open.baseUrl, '/jobs')).toBe(200);
    const home = await (await fetch(open.baseUrl)).text();
    expect(home).toContain('<a class="nav-link" href="/jobs">Jobs</a>');
  });

  it('refuses a remote client that the trusted proxy names, on every page, the API, the assets and unknown paths', async () => {
    const remote = { 'x-forwarded-for': '203.0.113.50' };
    for (const path of [
      '/jobs',
      '/jobs/states/abandoned',
      `/jobs/jobs/${abandoned.id}`,
      '/jobs/api/stats',
      '/jobs/assets/dashboard.js',
      '/jobs/nowhere',
    ]) {
      const response = await fetch(`${open.baseUrl}${path}`, { headers: remote });
      const text = await response.text();
      expect([path, response.status]).toEqual([path, 403]);
      expect(text).not.toContain(abandoned.id);
      expect(text).toContain('only requests from this machine');
    }
    // A client on this machine behind the same proxy is let in.
    expect(await status(open.baseUrl, '/jobs', { 'x-forwarded-for': '127.0.0.1' })).toBe(200);
    // An unknown path below the dashboard is its own 404 page; below its API, a JSON message.
    const unknown = await fetch(`${open.baseUrl}/jobs/nowhere`);
    expect([unknown.status, await unknown.text()]).toEqual([404, expect.stringContaining('Back to the overview')]);
    const unknownApi = await fetch(`${open.baseUrl}/jobs/api/nowhere`);
    expect([unknownApi.status, await unknownApi.json()]).toEqual([404, { message: 'There is no such page.' }]);
  });

  it('believes no proxy header without Web__TrustProxy: a forged X-Forwarded-For: 127.0.0.1 is refused', async () => {
    expect(await status(readOnly.baseUrl, '/jobs')).toBe(200);
    expect(await status(readOnly.baseUrl, '/jobs', { 'x-forwarded-for': '127.0.0.1' })).toBe(403);
  });

  it('refuses a dashboard form without its CSRF token, or sent by another site, and changes nothing', async () => {
    const browser = new BrowserSession(open.baseUrl);
    const page = await browser.get(`/jobs/jobs/${abandoned.id}`);
    const token = csrfTokenOf(page.html);
    const noToken = await browser.postForm(`/jobs/jobs/${abandoned.id}/requeue`, {});
    expect(noToken.status).toBe(403);
    // Refused by the web app's CSRF check before the dashboard's route, and answered as a page of the dashboard.
    expect(noToken.html).toContain('did not come from this site');
    expect(noToken.html).toContain('Back to the overview');
    // With a valid token and its cookies, but sent by a page of another site.
    const otherSite: Record<string, string>[] = [
      { origin: 'https://evil.example' },
      { 'sec-fetch-site': 'cross-site' },
    ];
    for (const headers of otherSite) {
      const crossSite = await browser.postForm(`/jobs/jobs/${abandoned.id}/requeue`, { _csrf: token }, headers);
      expect([headers, crossSite.status]).toEqual([headers, 403]);
      expect(crossSite.html).toContain('came from another site');
    }
    expect((await findRow(db.connectionString, abandoned.id))?.isAbandoned).toBe(true);
  });

  it('asks everyone for HTTP Basic auth when Dashboard__Username and Dashboard__Password are set', async () => {
    const path = '/ops/jobs';
    const anonymous = await fetch(`${withPassword.baseUrl}${path}`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    expect(await anonymous.text()).not.toContain(abandoned.id);
    expect(await status(withPassword.baseUrl, `${path}/api/stats`)).toBe(401);
    expect(await status(withPassword.baseUrl, path, { authorization: basic('ops', 'wrong') })).toBe(401);
    expect(await status(withPassword.baseUrl, path, { authorization: basic('ops', 'correct horse') })).toBe(200);
    expect(
      await status(withPassword.baseUrl, `${path}/api/stats`, { authorization: basic('ops', 'correct horse') }),
    ).toBe(200);
    // Moved: nothing answers at /jobs, and the navbar links to where it is.
    expect(await status(withPassword.baseUrl, '/jobs')).toBe(404);
    expect(await (await fetch(withPassword.baseUrl)).text()).toContain('href="/ops/jobs">Jobs</a>');
  });

  it('read-only shows no actions and refuses writes with 403', async () => {
    const page = await (await fetch(`${readOnly.baseUrl}/jobs/jobs/${abandoned.id}`)).text();
    expect(page).toContain(abandoned.id);
    expect(page).not.toContain('method="post"');
    const list = await (await fetch(`${readOnly.baseUrl}/jobs/states/abandoned`)).text();
    expect(list).not.toContain('method="post"');
    const write = await fetch(`${readOnly.baseUrl}/jobs/api/jobs/${abandoned.id}/requeue`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect([write.status, await write.json()]).toEqual([
      403,
      { message: expect.stringContaining('read-only') as unknown },
    ]);
    expect((await findRow(db.connectionString, abandoned.id))?.isAbandoned).toBe(true);
  });

  it('Dashboard__Enabled=false mounts nothing and drops the Jobs link', async () => {
    expect(await status(disabled.baseUrl, '/jobs')).toBe(404);
    expect(await status(disabled.baseUrl, '/jobs/api/stats')).toBe(404);
    expect(await (await fetch(disabled.baseUrl)).text()).not.toContain('>Jobs</a>');
  });

  it('every app exits 0 on SIGTERM after all of the above', async () => {
    expect(
      await Promise.all([open.app.stop(), withPassword.app.stop(), readOnly.app.stop(), disabled.app.stop()]),
    ).toEqual([OK, OK, OK, OK]);
  });
});

import { createSqliteDatabase, TestDatabase } from '../support/databases';
import { startWeb, WebApp } from './support/apps';
import { csrfTokenOf } from './support/browser-session';

jest.setTimeout(60_000);

interface Answer {
  status: number;
  setCookies: string[];
  hsts: string | null;
  html: string;
}

/** One request as a browser behind a TLS-terminating proxy would make it, with the proxy's headers. */
async function request(baseUrl: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  const response = await fetch(new URL(path, baseUrl), {
    method: body === undefined ? 'GET' : 'POST',
    body,
    redirect: 'manual',
    headers: {
      accept: 'text/html',
      ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
      ...headers,
    },
  });
  return {
    status: response.status,
    setCookies: response.headers.getSetCookie(),
    hsts: response.headers.get('strict-transport-security'),
    html: await response.text(),
  };
}

const nameOf = (setCookie: string) => setCookie.slice(0, setCookie.indexOf('='));
const attributesOf = (setCookie: string) =>
  setCookie
    .split(';')
    .slice(1)
    .map((a) => a.trim().toLowerCase());
const cookieHeader = (setCookies: string[]) => setCookies.map((c) => c.split(';')[0]).join('; ');

/** GETs the form and posts it back in the same way: the cookies of both answers. */
async function roundTrip(baseUrl: string, headers: Record<string, string>): Promise<{ page: Answer; posted: Answer }> {
  const page = await request(baseUrl, '/', headers);
  const body = new URLSearchParams({ _csrf: csrfTokenOf(page.html), ReportContent: 'over https?' }).toString();
  const posted = await request(baseUrl, '/', { ...headers, cookie: cookieHeader(page.setCookies) }, body);
  return { page, posted };
}

/**
 * Behind a proxy that terminates TLS, with Web__TrustProxy naming it, the app learns from
 * X-Forwarded-Proto that the browser uses HTTPS: its cookies are Secure and the CSRF pair carries
 * the __Host- prefix, and HSTS is sent. Over plain http, or from a proxy it does not trust, none.
 */
describe('cookies and HSTS over HTTPS', () => {
  let db: TestDatabase;
  let behindProxy: WebApp;
  let direct: WebApp;

  beforeAll(async () => {
    db = await createSqliteDatabase();
    behindProxy = await startWeb({ connectionString: db.connectionString, env: { Web__TrustProxy: '1' } });
    direct = await startWeb({ connectionString: db.connectionString });
  });

  afterAll(async () => {
    await Promise.all([behindProxy?.app.stop(), direct?.app.stop()]);
    await db?.drop();
  });

  it('sets Secure __Host- cookies and HSTS when a trusted proxy says the request came over HTTPS', async () => {
    const { page, posted } = await roundTrip(behindProxy.baseUrl, { 'x-forwarded-proto': 'https' });
    expect(page.setCookies.map(nameOf).sort()).toEqual(['__Host-bj.bid', '__Host-bj.x-csrf']);
    for (const cookie of page.setCookies) {
      expect(attributesOf(cookie)).toEqual(expect.arrayContaining(['secure', 'path=/', 'httponly']));
      expect(attributesOf(cookie).some((a) => a.startsWith('domain='))).toBe(false);
    }
    expect(page.hsts).toMatch(/max-age=\d+/);
    // The __Host- pair passes the CSRF check, and the flash cookie is Secure too.
    expect(posted.status).toBe(303);
    expect(posted.setCookies.map(nameOf)).toContain('bj.flash');
    for (const cookie of posted.setCookies) expect(attributesOf(cookie)).toContain('secure');
    expect(posted.hsts).not.toBeNull();
  });

  it.each([
    ['a trusted proxy over plain http', () => behindProxy, {}],
    ['a trusted proxy that says http', () => behindProxy, { 'x-forwarded-proto': 'http' }],
    ['a client claiming HTTPS to an app that trusts no proxy', () => direct, { 'x-forwarded-proto': 'https' }],
  ])('sets plain cookies and no HSTS for %s', async (_case, app, headers: Record<string, string>) => {
    const { page, posted } = await roundTrip(app().baseUrl, headers);
    expect(page.setCookies.map(nameOf).sort()).toEqual(['bj.bid', 'bj.x-csrf']);
    expect(posted.status).toBe(303);
    for (const cookie of [...page.setCookies, ...posted.setCookies])
      expect(attributesOf(cookie)).not.toContain('secure');
    expect(page.hsts).toBeNull();
    expect(posted.hsts).toBeNull();
  });

  it('both apps exit 0 on SIGTERM after all of the above', async () => {
    expect(await Promise.all([behindProxy.app.stop(), direct.app.stop()])).toEqual([
      { code: 0, signal: null },
      { code: 0, signal: null },
    ]);
  });
});

/** A response as a test reads it: status, headers, the page's HTML. */
export interface PageResponse {
  status: number;
  headers: Headers;
  html: string;
}

/**
 * One browser's worth of HTTP: node's fetch plus a cookie jar, redirects left to the test, and
 * forms posted as `application/x-www-form-urlencoded` like a browser submits them.
 */
export class BrowserSession {
  private readonly cookies = new Map<string, string>();

  constructor(readonly baseUrl: string) {}

  get(path: string): Promise<PageResponse> {
    return this.request(path, { method: 'GET' });
  }

  /** GETs the page and returns the `_csrf` hidden input's value. */
  async openForm(path = '/'): Promise<string> {
    const page = await this.get(path);
    if (page.status !== 200) throw new Error(`GET ${path} answered ${page.status}`);
    return csrfTokenOf(page.html);
  }

  /** `headers` add to or replace the browser's own (e.g. an `origin` of another site). */
  postForm(path: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<PageResponse> {
    return this.postBody(path, new URLSearchParams(fields).toString(), headers);
  }

  /** For bodies a URLSearchParams would be slow to build (megabytes). */
  postBody(path: string, body: string, headers: Record<string, string> = {}): Promise<PageResponse> {
    return this.request(path, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    });
  }

  private async request(
    path: string,
    init: { method: string; body?: string; headers?: Record<string, string> },
  ): Promise<PageResponse> {
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(new URL(path, this.baseUrl), {
      method: init.method,
      body: init.body,
      redirect: 'manual',
      headers: {
        accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
        origin: this.baseUrl,
        ...(cookie ? { cookie } : {}),
        ...init.headers,
      },
    });
    for (const header of response.headers.getSetCookie()) this.store(header);
    return { status: response.status, headers: response.headers, html: await response.text() };
  }

  private store(setCookie: string): void {
    const [pair, ...attributes] = setCookie.split(';');
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    const expired = attributes.some((attribute) => {
      const [key, val = ''] = attribute.split('=').map((s) => s.trim());
      if (/^max-age$/i.test(key)) return Number(val) <= 0;
      if (/^expires$/i.test(key)) return Date.parse(val) <= Date.now();
      return false;
    });
    if (expired || value === '') this.cookies.delete(name);
    else this.cookies.set(name, value);
  }
}

export function csrfTokenOf(html: string): string {
  const token = /<input[^>]*name="_csrf"[^>]*value="([^"]*)"/.exec(html)?.[1];
  if (!token) throw new Error('The page has no _csrf hidden input');
  return token;
}

/** The text of each Bootstrap alert on the page. */
export function alertsOf(html: string): { type: string; text: string }[] {
  return [...html.matchAll(/<div class="alert alert-(\w+)[^"]*" role="alert">([\s\S]*?)<button/g)].map((m) => ({
    type: m[1],
    text: decodeEntities(m[2].trim()),
  }));
}

/** The value the ReportContent input is rendered with (what the user typed, if kept). */
export function reportContentOf(html: string): string | undefined {
  const value = /<input[^>]*id="ReportContent"[^>]*value="([^"]*)"/.exec(html)?.[1];
  return value === undefined ? undefined : decodeEntities(value);
}

function decodeEntities(text: string): string {
  return text
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(Number(dec)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

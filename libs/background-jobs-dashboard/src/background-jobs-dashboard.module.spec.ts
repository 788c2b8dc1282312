import { StoreUnavailableError } from '@app/background-jobs';
import { BackgroundJobsDashboardModule } from './background-jobs-dashboard.module';
import { DashboardTestApp, startDashboardTestApp } from '../../../test/support/dashboard-test-app';
import { fakeJob } from '../../../test/support/fake-background-jobs-admin';

const HOSTILE = '<script>alert("x")</script>';
const JSON_WRITE = { 'content-type': 'application/json' };

async function get(app: DashboardTestApp, path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${app.baseUrl}${path}`, { headers, redirect: 'manual' });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** An attribute's value as the browser reads it (Handlebars writes `=` as `&#x3D;`). */
function attribute(html: string, pattern: RegExp): string {
  return pattern
    .exec(html)![1]
    .replace(/&#x3D;/g, '=')
    .replace(/&amp;/g, '&');
}

async function send(
  app: DashboardTestApp,
  method: string,
  path: string,
  { body, headers = {} }: { body?: string; headers?: Record<string, string> } = {},
) {
  const response = await fetch(`${app.baseUrl}${path}`, { method, body, headers, redirect: 'manual' });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) as unknown };
}

function postForm(app: DashboardTestApp, path: string, fields: [string, string][]) {
  return send(app, 'POST', path, {
    body: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
  });
}

describe('the dashboard on a fake management service', () => {
  let app: DashboardTestApp;

  beforeEach(async () => {
    app = await startDashboardTestApp();
  });

  afterEach(async () => {
    await app.close();
  });

  describe('pages', () => {
    it('shows a count per state and per job name, succeeded as "not kept" while it is null', async () => {
      app.admin.jobs = [fakeJob('waiting'), fakeJob('waiting'), fakeJob('abandoned', { jobName: 'Other' })];
      const page = await get(app, '/jobs');
      expect(page.status).toBe(200);
      expect(page.headers.get('cache-control')).toContain('no-store');
      expect(page.text).toMatch(/data-count="waiting">2</);
      expect(page.text).toMatch(/data-count="abandoned">1</);
      expect(page.text).toMatch(/data-count="succeeded">not kept</);
      expect(page.text).toContain('<tr data-job-name="Other">');
      expect(attribute(page.text, /href="([^"]+)" data-count="abandoned">1</)).toBe(
        '/jobs/states/abandoned?jobName=Other',
      );
      expect(page.text).toContain('<script src="/jobs/assets/dashboard.js"></script>');
      expect(page.text).toContain('Not kept: succeeded jobs are deleted');
    });

    it('marks estimated counts with "~" and draws the last hour as an SVG once history exists', async () => {
      jest.spyOn(app.admin, 'stats').mockResolvedValue({
        waiting: 1_234_567,
        scheduled: 12,
        retrying: 0,
        processing: 0,
        abandoned: 0,
        succeeded: 99,
        byJobName: {},
        estimated: true,
      });
      app.admin.historyPoints = [
        { minute: '2026-12-01T10:00:00.000Z', succeeded: 4, failed: 1 },
        { minute: '2026-12-01T10:01:00.000Z', succeeded: 0, failed: 2 },
      ];
      const page = await get(app, '/jobs');
      expect(page.text).toMatch(/data-count="waiting">~1.2M</);
      expect(page.text).toMatch(/data-count="scheduled">12</);
      expect(page.text).toContain('a count marked ~ is the database');
      expect(page.text).toContain('<svg class="bj-chart"');
      expect(page.text.match(/<rect class="bj-bar bj-bar-(succeeded|failed)"/g)).toHaveLength(3);
      expect(page.text).toContain('<title>10:00 UTC: 4 succeeded</title>');
    });

    it('lists a state 50 a page, pages on by the cursor, and filters by job name and ApplicationName', async () => {
      app.admin.jobs = [
        ...Array.from({ length: 60 }, () => fakeJob('abandoned', { jobArgs: '{\n  "content": "two\\nlines"\n}' })),
        fakeJob('abandoned', { jobName: 'Other', applicationName: 'Billing' }),
        fakeJob('waiting'),
      ];
      const first = await get(app, '/jobs/states/abandoned');
      expect(first.text.match(/name="ids"/g)).toHaveLength(50);
      // Args on one line, white space collapsed.
      expect(first.text).toContain('<code>{ &quot;content&quot;: &quot;two\\nlines&quot; }</code>');
      const next = attribute(first.text, /href="([^"]+)" rel="next"/);
      const second = await get(app, next);
      expect(second.text.match(/name="ids"/g)).toHaveLength(11);
      expect(second.text).not.toContain('rel="next"');
      expect(second.text).toContain('First page');

      const filtered = await get(app, '/jobs/states/abandoned?jobName=Other&applicationName=Billing');
      expect(filtered.text.match(/name="ids"/g)).toHaveLength(1);
      const none = await get(app, '/jobs/states/abandoned?jobName=Other&applicationName=Shipping');
      expect(none.text).not.toContain('name="ids"');
      expect((await get(app, '/jobs/states/nonsense')).status).toBe(404);
      expect((await get(app, '/jobs/states/abandoned?after=not-a-cursor')).status).toBe(400);
    });

    it('finds a job by id, and says when there is none', async () => {
      const job = fakeJob('scheduled');
      app.admin.jobs = [job];
      const found = await get(app, `/jobs/find?id=${job.id}`);
      expect(found.status).toBe(303);
      expect(found.headers.get('location')).toBe(`/jobs/jobs/${job.id}`);
      expect((await get(app, '/jobs/find?id=nope')).status).toBe(404);
      const gone = await get(app, '/jobs/jobs/0190a0b0-0000-7000-8000-ffffffffffff');
      expect(gone.status).toBe(404);
      expect(gone.text).toContain('There is no job 0190a0b0-0000-7000-8000-ffffffffffff');
    });

    it('shows every column, the args pretty-printed, LastError with its time and stack, and the actions of the state', async () => {
      const job = fakeJob('abandoned', {
        jobArgs: '{"content":"hello","n":1}',
        extraProperties: JSON.stringify({
          LastError: 'Error: boom\n    at MyReportJob.execute (my-report.job.ts:12:11)',
          LastErrorTime: '2026-12-01T10:04:00.000Z',
          LastErrorTryCount: 3,
        }),
      });
      app.admin.jobs = [job];
      const page = await get(app, `/jobs/jobs/${job.id}`);
      for (const column of [
        'Id',
        'ApplicationName',
        'JobName',
        'TryCount',
        'CreationTime',
        'NextTryTime',
        'LastTryTime',
      ]) {
        expect(page.text).toContain(`<th scope="row">${column}</th>`);
      }
      for (const column of ['IsAbandoned', 'Priority', 'CompletionTime', 'ConcurrencyStamp']) {
        expect(page.text).toContain(`<th scope="row">${column}</th>`);
      }
      expect(page.text).toContain('15 (Normal)');
      expect(page.text).toContain('{\n  &quot;content&quot;: &quot;hello&quot;,\n  &quot;n&quot;: 1\n}');
      expect(page.text).toContain('<code>Error: boom</code>');
      expect(page.text).toContain('at MyReportJob.execute (my-report.job.ts:12:11)');
      expect(page.text).toContain('2026-12-01 10:04:00 UTC');
      expect(page.text).toContain(`action="/jobs/jobs/${job.id}/requeue"`);
      expect(page.text).toContain(`action="/jobs/jobs/${job.id}/delete"`);
      expect(page.text).not.toContain('/run-now"');
    });

    it('cuts a 1 MB args value on the page and downloads it whole', async () => {
      const big = JSON.stringify({ content: 'x'.repeat(1_048_500) });
      const job = fakeJob('waiting', { jobArgs: big });
      app.admin.jobs = [job];
      const page = await get(app, `/jobs/jobs/${job.id}`);
      expect(page.text.length).toBeLessThan(100_000);
      expect(page.text).toContain('id="bj-args-cut"');
      const download = await get(app, `/jobs/jobs/${job.id}/args`);
      expect(download.headers.get('content-disposition')).toBe(`attachment; filename="job-${job.id}-args.json"`);
      expect(download.headers.get('content-type')).toContain('application/json');
      expect(download.text).toBe(big);
    });

    it('lists the live workers', async () => {
      app.admin.workerList = [
        {
          id: 'w1',
          host: 'box-1',
          pid: 4242,
          applicationName: null,
          jobNames: ['A', 'B'],
          maxParallel: 8,
          running: 3,
          startedAt: '2026-12-01T09:00:00.000Z',
          lastHeartbeat: new Date().toISOString(),
        },
      ];
      const page = await get(app, '/jobs/workers');
      expect(page.text).toContain('<td>box-1</td>');
      expect(page.text).toContain('<td class="text-end">4242</td>');
      expect(page.text).toContain('A, B');
    });

    it('says the database did not answer (503) on a page and in the API, and that nothing was changed', async () => {
      jest.spyOn(app.admin, 'stats').mockRejectedValue(new StoreUnavailableError(new Error('ECONNREFUSED')));
      const page = await get(app, '/jobs');
      expect(page.status).toBe(503);
      expect(page.text).toContain('The job database did not answer; nothing was changed.');
      const api = await send(app, 'GET', '/jobs/api/stats');
      expect([api.status, api.json()]).toEqual([
        503,
        { message: expect.stringContaining('did not answer') as unknown },
      ]);
    });

    it('escapes hostile names, args, errors and application names on every page', async () => {
      const job = fakeJob('abandoned', {
        jobName: HOSTILE,
        applicationName: HOSTILE,
        jobArgs: JSON.stringify({ content: `</code></pre>${HOSTILE}` }),
        extraProperties: JSON.stringify({ LastError: `Error: ${HOSTILE}\n    at ${HOSTILE}`, LastErrorTime: HOSTILE }),
      });
      app.admin.jobs = [job];
      app.admin.workerList = [
        {
          id: HOSTILE,
          host: HOSTILE,
          pid: 1,
          applicationName: HOSTILE,
          jobNames: [HOSTILE],
          maxParallel: 1,
          running: 0,
          startedAt: HOSTILE,
          lastHeartbeat: HOSTILE,
        },
      ];
      const pages = [
        '/jobs',
        '/jobs/states/abandoned',
        `/jobs/states/abandoned?jobName=${encodeURIComponent(HOSTILE)}`,
        `/jobs/jobs/${job.id}`,
        '/jobs/workers',
      ];
      for (const path of pages) {
        const page = await get(app, path);
        expect(page.status).toBe(200);
        expect(page.text).not.toContain('<script>alert');
        expect(page.text).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
      }
    });
  });

  describe('actions from the pages', () => {
    it('requeues one job and says so; a job a worker holds is refused with a message saying why', async () => {
      const free = fakeJob('abandoned');
      const held = fakeJob('retrying');
      app.admin.jobs = [free, held];
      app.admin.held.add(held.id);

      const done = await postForm(app, `/jobs/jobs/${free.id}/requeue`, []);
      expect(done.status).toBe(303);
      const after = await get(app, done.headers.get('location')!);
      expect(after.text).toContain('The job was requeued.');
      expect(app.admin.calls).toEqual([{ action: 'requeue', ids: [free.id], actor: { name: '127.0.0.1' } }]);

      const refused = await postForm(app, `/jobs/jobs/${held.id}/requeue`, []);
      const page = await get(app, refused.headers.get('location')!);
      expect(page.text).toContain('Refused: a worker holds this job (it is running it now), so it was not requeued.');
    });

    it('runs a scheduled job now, deletes one and goes back to its list', async () => {
      const scheduled = fakeJob('scheduled');
      const doomed = fakeJob('waiting');
      app.admin.jobs = [scheduled, doomed];
      await postForm(app, `/jobs/jobs/${scheduled.id}/run-now`, []);
      expect(scheduled.state).toBe('waiting');
      const deleted = await postForm(app, `/jobs/jobs/${doomed.id}/delete`, []);
      expect(deleted.headers.get('location')).toBe('/jobs/states/waiting?action=delete&done=1&held=0&missing=0&one=1');
      expect(await app.admin.get(doomed.id)).toBeUndefined();
    });

    it('acts on a selection and tells done from held', async () => {
      const [a, b, c] = [fakeJob('abandoned'), fakeJob('abandoned'), fakeJob('abandoned')];
      app.admin.jobs = [a, b, c];
      app.admin.held.add(c.id);
      const response = await postForm(app, '/jobs/actions', [
        ['state', 'abandoned'],
        ['action', 'requeue'],
        ['ids', a.id],
        ['ids', b.id],
        ['ids', c.id],
      ]);
      const page = await get(app, response.headers.get('location')!);
      expect(page.text).toContain('2 jobs requeued.');
      expect(page.text).toContain('Refused for 1 job: a worker holds it (running now), so it was not requeued.');
      const misfit = await postForm(app, '/jobs/actions', [
        ['state', 'abandoned'],
        ['action', 'run-now'],
        ['ids', a.id],
      ]);
      expect(misfit.status).toBe(400);
    });

    it('requeues and deletes all abandoned of one job name; deleting them needs the box ticked', async () => {
      app.admin.jobs = [
        fakeJob('abandoned', { jobName: 'X' }),
        fakeJob('abandoned', { jobName: 'X' }),
        fakeJob('abandoned'),
      ];
      const list = await get(app, '/jobs/states/abandoned?jobName=X');
      expect(list.text).toContain('id="bj-all-of-name"');
      const requeued = await postForm(app, '/jobs/actions/all', [
        ['state', 'abandoned'],
        ['jobName', 'X'],
        ['action', 'requeue'],
      ]);
      expect(requeued.headers.get('location')).toBe(
        '/jobs/states/abandoned?jobName=X&action=requeue&done=2&held=0&missing=0',
      );
      expect(app.admin.calls[0]).toEqual({
        action: 'requeueWhere',
        selection: { state: 'abandoned', jobName: 'X' },
        actor: { name: '127.0.0.1' },
      });
      const unticked = await postForm(app, '/jobs/actions/all', [
        ['state', 'abandoned'],
        ['jobName', 'MyReportJobArgs'],
        ['action', 'delete'],
      ]);
      expect(unticked.status).toBe(400);
      expect(unticked.text).toContain('Tick &quot;I mean it&quot;');
      expect(app.admin.jobs).toHaveLength(3);
      await postForm(app, '/jobs/actions/all', [
        ['state', 'abandoned'],
        ['jobName', 'MyReportJobArgs'],
        ['action', 'delete'],
        ['confirm', 'yes'],
      ]);
      expect(app.admin.jobs).toHaveLength(2);
    });

    it('refuses a form sent by another site', async () => {
      const job = fakeJob('abandoned');
      app.admin.jobs = [job];
      const response = await send(app, 'POST', `/jobs/jobs/${job.id}/requeue`, {
        body: '',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'cross-site' },
      });
      expect(response.status).toBe(403);
      expect(response.text).toContain('came from another site');
      expect(app.admin.calls).toEqual([]);
    });
  });

  describe('JSON API', () => {
    it('GET /api/stats: the issue keys exactly, per job name too; estimates said in a header', async () => {
      app.admin.jobs = [fakeJob('waiting'), fakeJob('retrying', { jobName: 'B' })];
      const response = await send(app, 'GET', '/jobs/api/stats');
      expect(response.headers.get('x-counts-estimated')).toBe('false');
      expect(response.json()).toEqual({
        waiting: 1,
        scheduled: 0,
        retrying: 1,
        processing: 0,
        abandoned: 0,
        succeeded: null,
        byJobName: {
          MyReportJobArgs: { waiting: 1, scheduled: 0, retrying: 0, processing: 0, abandoned: 0, succeeded: null },
          B: { waiting: 0, scheduled: 0, retrying: 1, processing: 0, abandoned: 0, succeeded: null },
        },
      });
      expect(Object.keys(response.json() as object)).toEqual([
        'waiting',
        'scheduled',
        'retrying',
        'processing',
        'abandoned',
        'succeeded',
        'byJobName',
      ]);
    });

    it('GET /api/jobs pages by the next cursor and refuses a bad state, limit or cursor with 400', async () => {
      app.admin.jobs = Array.from({ length: 5 }, () => fakeJob('scheduled'));
      const first = (await send(app, 'GET', '/jobs/api/jobs?state=scheduled&limit=3')).json() as {
        items: { id: string; jobName: string; tryCount: number; nextTryTime: string }[];
        next: string;
      };
      expect(first.items).toHaveLength(3);
      expect(first.items[0]).toMatchObject({
        jobName: 'MyReportJobArgs',
        tryCount: 0,
        nextTryTime: expect.any(String) as unknown,
      });
      const second = (await send(app, 'GET', `/jobs/api/jobs?state=scheduled&limit=3&after=${first.next}`)).json();
      expect(second).toMatchObject({ next: null });
      for (const query of [
        '',
        'state=nope',
        'state=waiting&limit=0',
        'state=waiting&limit=501',
        'state=waiting&after=bad',
      ]) {
        const refused = await send(app, 'GET', `/jobs/api/jobs?${query}`);
        expect([query, refused.status]).toEqual([query, 400]);
        expect(refused.json()).toEqual({ message: expect.any(String) as unknown });
      }
    });

    it('GET /api/jobs/:id answers the row, or 404 with a message', async () => {
      const job = fakeJob('waiting');
      app.admin.jobs = [job];
      expect((await send(app, 'GET', `/jobs/api/jobs/${job.id}`)).json()).toEqual(job);
      const missing = await send(app, 'GET', '/jobs/api/jobs/0190a0b0-0000-7000-8000-ffffffffffff');
      expect(missing.status).toBe(404);
      expect(missing.json()).toEqual({ message: expect.stringContaining('There is no job') as unknown });
    });

    it('requeue, run-now and DELETE: 200 with the result, 409 when held or in another state, 404 when unknown', async () => {
      const [abandoned, scheduled, held, waiting] = [
        fakeJob('abandoned'),
        fakeJob('scheduled'),
        fakeJob('retrying'),
        fakeJob('waiting'),
      ];
      app.admin.jobs = [abandoned, scheduled, held, waiting];
      app.admin.held.add(held.id);
      const post = (path: string) => send(app, 'POST', path, { body: '{}', headers: JSON_WRITE });

      const requeued = await post(`/jobs/api/jobs/${abandoned.id}/requeue`);
      expect([requeued.status, requeued.json()]).toEqual([200, { done: [abandoned.id], held: [], missing: [] }]);
      expect((await post(`/jobs/api/jobs/${scheduled.id}/run-now`)).status).toBe(200);
      const refused = await post(`/jobs/api/jobs/${held.id}/requeue`);
      expect(refused.status).toBe(409);
      expect(refused.json()).toEqual({ message: expect.stringContaining('held by a worker') as unknown });
      const misfit = await post(`/jobs/api/jobs/${waiting.id}/run-now`);
      expect(misfit.status).toBe(409);
      expect(misfit.json()).toEqual({ message: expect.stringContaining('is waiting') as unknown });
      expect((await post('/jobs/api/jobs/0190a0b0-0000-7000-8000-ffffffffffff/requeue')).status).toBe(404);
      expect((await post('/jobs/api/jobs/not-an-id/requeue')).status).toBe(404);

      const deleted = await send(app, 'DELETE', `/jobs/api/jobs/${waiting.id}`, { headers: JSON_WRITE });
      expect([deleted.status, deleted.json()]).toEqual([200, { done: [waiting.id], held: [], missing: [] }]);
      expect((await send(app, 'DELETE', `/jobs/api/jobs/${held.id}`, { headers: JSON_WRITE })).status).toBe(409);
    });

    it('POST /api/requeue takes ids or a state and job name, and refuses anything else with 400', async () => {
      const [a, b] = [fakeJob('abandoned', { jobName: 'X' }), fakeJob('abandoned', { jobName: 'X' })];
      app.admin.jobs = [a, b, fakeJob('abandoned')];
      const post = (body: unknown) =>
        send(app, 'POST', '/jobs/api/requeue', { body: JSON.stringify(body), headers: JSON_WRITE });
      expect((await post({ ids: [a.id] })).json()).toEqual({ done: [a.id], held: [], missing: [] });
      expect((await post({ state: 'abandoned', jobName: 'X' })).json()).toEqual({
        done: [b.id],
        held: [],
        missing: [],
      });
      for (const bad of [{}, { ids: [] }, { ids: ['x'] }, { ids: [a.id], state: 'abandoned' }, { state: 'nope' }, []]) {
        const refused = await post(bad);
        expect([bad, refused.status]).toEqual([bad, 400]);
      }
      // The service's own refusal (AdminInputError) is a 400 with its message.
      const waiting = await post({ state: 'waiting' });
      expect([waiting.status, waiting.json()]).toEqual([
        400,
        { message: expect.stringContaining('not waiting') as unknown },
      ]);
      const broken = await send(app, 'POST', '/jobs/api/requeue', { body: '{"ids":', headers: JSON_WRITE });
      expect(broken.status).toBe(400);
    });

    it('writes need Content-Type: application/json and a request not sent by another site', async () => {
      const job = fakeJob('abandoned');
      app.admin.jobs = [job];
      const path = `/jobs/api/jobs/${job.id}/requeue`;
      const plain = await send(app, 'POST', path, { body: '{}', headers: { 'content-type': 'text/plain' } });
      expect([plain.status, plain.json()]).toEqual([
        415,
        { message: expect.stringContaining('application/json') as unknown },
      ]);
      expect((await send(app, 'POST', path)).status).toBe(415);
      const crossSite: Record<string, string>[] = [
        { 'sec-fetch-site': 'cross-site' },
        { 'sec-fetch-site': 'same-site' },
        { origin: 'https://evil.example' },
      ];
      for (const headers of crossSite) {
        const refused = await send(app, 'POST', path, { body: '{}', headers: { ...JSON_WRITE, ...headers } });
        expect([headers, refused.status]).toEqual([headers, 403]);
      }
      expect(app.admin.calls).toEqual([]);
      const sameOrigin = await send(app, 'POST', path, {
        body: '{}',
        headers: { ...JSON_WRITE, origin: app.baseUrl, 'sec-fetch-site': 'same-origin' },
      });
      expect(sameOrigin.status).toBe(200);
    });
  });
});

describe('dashboard access through HTTP', () => {
  let app: DashboardTestApp | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('with no settings lets loopback in and refuses a remote client a trusted proxy names, seeing nothing', async () => {
    app = await startDashboardTestApp({ trustProxy: ['loopback'] });
    app.admin.jobs = [fakeJob('waiting', { jobName: 'Secret' })];
    expect((await get(app, '/jobs')).status).toBe(200);
    for (const path of ['/jobs', '/jobs/api/stats', '/jobs/states/waiting', '/jobs/assets/dashboard.js']) {
      const remote = await get(app, path, { 'x-forwarded-for': '203.0.113.9' });
      expect([path, remote.status]).toEqual([path, 403]);
      expect(remote.text).not.toContain('Secret');
      expect(remote.text).toContain('only requests from this machine');
    }
    // A local client behind the same local proxy is local.
    expect((await get(app, '/jobs', { 'x-forwarded-for': '127.0.0.1' })).status).toBe(200);
  });

  it('without a trusted proxy refuses a request that claims to be forwarded for loopback', async () => {
    app = await startDashboardTestApp();
    expect((await get(app, '/jobs', { 'x-forwarded-for': '127.0.0.1' })).status).toBe(403);
  });

  it('with a username and password asks everyone for HTTP Basic auth and names the user in the action', async () => {
    app = await startDashboardTestApp({ username: 'ops', password: 'pa:ss wörd' });
    const job = fakeJob('abandoned');
    app.admin.jobs = [job];
    const anonymous = await get(app, '/jobs/api/stats');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Basic realm="Background jobs", charset="UTF-8"');
    const basic = (user: string, password: string) =>
      `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
    expect((await get(app, '/jobs', { authorization: basic('ops', 'wrong') })).status).toBe(401);
    expect((await get(app, '/jobs', { authorization: basic('Ops', 'pa:ss wörd') })).status).toBe(401);
    expect((await get(app, '/jobs', { authorization: basic('ops', 'pa:ss wörd') })).status).toBe(200);
    await send(app, 'POST', `/jobs/api/jobs/${job.id}/requeue`, {
      body: '{}',
      headers: { ...JSON_WRITE, authorization: basic('ops', 'pa:ss wörd') },
    });
    expect(app.admin.calls[0].actor).toEqual({ name: 'ops' });
  });

  it('read-only shows no actions and refuses every write with 403', async () => {
    app = await startDashboardTestApp({ readOnly: true });
    const job = fakeJob('abandoned', { jobName: 'X' });
    app.admin.jobs = [job];
    for (const path of ['/jobs/states/abandoned?jobName=X', `/jobs/jobs/${job.id}`]) {
      const page = await get(app, path);
      expect(page.text).not.toContain('method="post"');
    }
    const api = await send(app, 'POST', `/jobs/api/jobs/${job.id}/requeue`, { body: '{}', headers: JSON_WRITE });
    expect([api.status, api.json()]).toEqual([403, { message: expect.stringContaining('read-only') as unknown }]);
    const form = await postForm(app, `/jobs/jobs/${job.id}/requeue`, []);
    expect(form.status).toBe(403);
    expect(app.admin.calls).toEqual([]);
  });

  it('an authorize hook decides instead of the local rule', async () => {
    app = await startDashboardTestApp({ authorize: (req) => req.headers['x-test-user'] === 'admin' });
    expect((await get(app, '/jobs')).status).toBe(403);
    expect((await get(app, '/jobs', { 'x-test-user': 'admin' })).status).toBe(200);
  });

  it('takes its options from a factory with forRootAsync, the path given as it is', async () => {
    app = await startDashboardTestApp(
      BackgroundJobsDashboardModule.forRootAsync({
        path: '/queue',
        useFactory: async () => ({ readOnly: true, username: 'ops', password: 'secret' }),
      }),
    );
    const auth = { authorization: `Basic ${Buffer.from('ops:secret').toString('base64')}` };
    expect((await get(app, '/queue')).status).toBe(401);
    expect((await get(app, '/queue', auth)).status).toBe(200);
    const write = await send(app, 'POST', '/queue/api/requeue', {
      body: '{"ids":[]}',
      headers: { ...JSON_WRITE, ...auth },
    });
    expect(write.status).toBe(403);
  });

  it('mounts at another path, and not at all when disabled', async () => {
    app = await startDashboardTestApp({ path: '/ops/queue/' });
    expect((await get(app, '/ops/queue')).status).toBe(200);
    expect((await get(app, '/ops/queue/api/stats')).status).toBe(200);
    expect((await get(app, '/jobs')).status).toBe(404);
    await app.close();
    app = await startDashboardTestApp({ enabled: false });
    expect((await get(app, '/jobs')).status).toBe(404);
  });
});

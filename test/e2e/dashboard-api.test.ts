import type { ActionResult, JobListPage, JobView } from '@app/background-jobs/admin/background-jobs-admin.types';
import { appsOnFreshDatabase } from './support/apps-on-database';
import { DASHBOARD_JOB_NAME, findRow, insertRows, rowIn } from './support/dashboard-rows';
import { e2eCases, skipUnavailable } from './support/e2e-backends';

jest.setTimeout(60_000);

interface Answer<T> {
  status: number;
  headers: Headers;
  body: T;
}

/** One request to the built web app's JSON API, as a script on this machine sends it. */
async function api<T = unknown>(
  baseUrl: string,
  method: string,
  path: string,
  { body, headers = {} }: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer<T>> {
  const write = method !== 'GET';
  const response = await fetch(`${baseUrl}/jobs/api${path}`, {
    method,
    body: body === undefined ? (write ? '{}' : undefined) : JSON.stringify(body),
    headers: { accept: 'application/json', ...(write ? { 'content-type': 'application/json' } : {}), ...headers },
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as T };
}

const message = (text: string) => ({ message: expect.stringContaining(text) as unknown });

/** The JSON API of the built web app on each database, with rows in every state written as the worker leaves them. */
describe.each(e2eCases)('dashboard JSON API on %s', (_label, backend) => {
  if (skipUnavailable(backend)) return;
  const apps = appsOnFreshDatabase(backend);
  const rows = {
    waiting: rowIn.waiting(),
    scheduled: rowIn.scheduled(),
    retrying: rowIn.retrying(),
    abandoned: [rowIn.abandoned(), rowIn.abandoned(), rowIn.abandoned({ jobName: 'OtherJobArgs' })],
    processing: rowIn.processing(),
  };

  beforeAll(async () => {
    await insertRows(apps.db.connectionString, [
      rows.waiting,
      rows.scheduled,
      rows.retrying,
      ...rows.abandoned,
      rows.processing,
    ]);
  });

  it('GET /jobs/api/stats counts every state, per job name too, with exactly the issue keys', async () => {
    const stats = await api<Record<string, unknown>>(apps.web.baseUrl, 'GET', '/stats');
    expect(stats.status).toBe(200);
    expect(stats.headers.get('x-counts-estimated')).toBe('false');
    expect(stats.body).toEqual({
      waiting: 1,
      scheduled: 1,
      retrying: 1,
      processing: 1,
      abandoned: 3,
      succeeded: null,
      byJobName: {
        [DASHBOARD_JOB_NAME]: { waiting: 1, scheduled: 1, retrying: 1, processing: 1, abandoned: 2, succeeded: null },
        OtherJobArgs: { waiting: 0, scheduled: 0, retrying: 0, processing: 0, abandoned: 1, succeeded: null },
      },
    });
  });

  it('GET /jobs/api/jobs lists a state in camelCase columns and pages on by the next cursor', async () => {
    const first = await api<JobListPage>(apps.web.baseUrl, 'GET', '/jobs?state=abandoned&limit=2');
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.items[0]).toMatchObject({
      jobArgs: expect.any(String) as unknown,
      tryCount: 12,
      isAbandoned: true,
      nextTryTime: expect.any(String) as unknown,
      state: 'abandoned',
    });
    expect(first.body.next).toEqual(expect.any(String));
    const second = await api<JobListPage>(
      apps.web.baseUrl,
      'GET',
      `/jobs?state=abandoned&limit=2&after=${first.body.next}`,
    );
    expect(second.body.items).toHaveLength(1);
    expect(second.body.next).toBeNull();
    const ids = [...first.body.items, ...second.body.items].map((job) => job.id.toLowerCase()).sort();
    expect(ids).toEqual(rows.abandoned.map((row) => row.id).sort());

    const named = await api<JobListPage>(apps.web.baseUrl, 'GET', '/jobs?state=abandoned&jobName=OtherJobArgs');
    expect(named.body.items.map((job) => job.id.toLowerCase())).toEqual([rows.abandoned[2].id]);
  });

  it('refuses a bad state, limit or cursor with 400 and a message', async () => {
    for (const query of ['state=done', 'state=waiting&limit=0', 'state=waiting&after=%21%21not-a-cursor']) {
      const refused = await api(apps.web.baseUrl, 'GET', `/jobs?${query}`);
      expect([query, refused.status, refused.body]).toEqual([query, 400, { message: expect.any(String) as unknown }]);
    }
  });

  it('GET /jobs/api/jobs/:id answers the row, or 404', async () => {
    const found = await api<JobView>(apps.web.baseUrl, 'GET', `/jobs/${rows.retrying.id}`);
    expect(found.body).toMatchObject({ jobName: DASHBOARD_JOB_NAME, tryCount: 2, state: 'retrying' });
    const missing = await api(apps.web.baseUrl, 'GET', '/jobs/01234567-89ab-4def-8123-456789abcdef');
    expect([missing.status, missing.body]).toEqual([404, message('There is no job')]);
  });

  it('refuses every action on a row a worker holds with 409, and leaves it as it was', async () => {
    const before = await findRow(apps.db.connectionString, rows.processing.id);
    for (const [method, path] of [
      ['POST', `/jobs/${rows.processing.id}/requeue`],
      ['POST', `/jobs/${rows.processing.id}/run-now`],
      ['DELETE', `/jobs/${rows.processing.id}`],
    ]) {
      const refused = await api(apps.web.baseUrl, method, path);
      expect([path, refused.status, refused.body]).toEqual([path, 409, message('held by a worker')]);
    }
    expect(await findRow(apps.db.connectionString, rows.processing.id)).toEqual(before);
  });

  it('refuses a write from another site or without JSON, and changes nothing', async () => {
    const path = `/jobs/${rows.scheduled.id}/run-now`;
    const crossSite = await api(apps.web.baseUrl, 'POST', path, { headers: { 'sec-fetch-site': 'cross-site' } });
    expect([crossSite.status, crossSite.body]).toEqual([403, message('another site')]);
    const foreignOrigin = await api(apps.web.baseUrl, 'POST', path, { headers: { origin: 'https://evil.example' } });
    expect(foreignOrigin.status).toBe(403);
    const plain = await fetch(`${apps.web.baseUrl}/jobs/api${path}`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'text/plain' },
    });
    expect([plain.status, await plain.json()]).toEqual([415, message('application/json')]);
    expect((await findRow(apps.db.connectionString, rows.scheduled.id))?.nextTryTime.getTime()).toBeGreaterThan(
      Date.now(),
    );
  });

  it('POST run-now makes a scheduled job due; a job in another state is refused with 409', async () => {
    const ran = await api<ActionResult>(apps.web.baseUrl, 'POST', `/jobs/${rows.scheduled.id}/run-now`);
    expect(ran.status).toBe(200);
    expect(ran.body.done.map((id) => id.toLowerCase())).toEqual([rows.scheduled.id]);
    const now = await api<JobView>(apps.web.baseUrl, 'GET', `/jobs/${rows.scheduled.id}`);
    expect(now.body.state).toBe('waiting');
    const misfit = await api(apps.web.baseUrl, 'POST', `/jobs/${rows.waiting.id}/run-now`);
    expect([misfit.status, misfit.body]).toEqual([409, message('is waiting')]);
  });

  it('POST requeue makes an abandoned job due again with TryCount 0, keeping its last error', async () => {
    const id = rows.abandoned[0].id;
    const requeued = await api<ActionResult>(apps.web.baseUrl, 'POST', `/jobs/${id}/requeue`);
    expect([requeued.status, requeued.body.held, requeued.body.missing]).toEqual([200, [], []]);
    const job = await api<JobView>(apps.web.baseUrl, 'GET', `/jobs/${id}`);
    expect(job.body).toMatchObject({ state: 'waiting', tryCount: 0, isAbandoned: false });
    expect(job.body.extraProperties).toContain('the report template is missing');
    // One log line per action: who, what, which ids.
    const logged = apps.web.app.lines.filter((line) => JSON.stringify(line).toLowerCase().includes(id));
    expect(logged).toHaveLength(1);
    expect(JSON.stringify(logged[0])).toContain('127.0.0.1');
  });

  it('POST /jobs/api/requeue requeues by ids, or all abandoned of a job name', async () => {
    const byIds = await api<ActionResult>(apps.web.baseUrl, 'POST', '/requeue', {
      body: { ids: [rows.retrying.id, rows.processing.id] },
    });
    expect(byIds.status).toBe(200);
    expect(byIds.body.done.map((id) => id.toLowerCase())).toEqual([rows.retrying.id]);
    expect(byIds.body.held.map((id) => id.toLowerCase())).toEqual([rows.processing.id]);

    const byName = await api<ActionResult>(apps.web.baseUrl, 'POST', '/requeue', {
      body: { state: 'abandoned', jobName: DASHBOARD_JOB_NAME },
    });
    expect(byName.body.done.map((id) => id.toLowerCase())).toEqual([rows.abandoned[1].id]);
    const stats = await api<{ abandoned: number }>(apps.web.baseUrl, 'GET', '/stats');
    expect(stats.body.abandoned).toBe(1);
    const bad = await api(apps.web.baseUrl, 'POST', '/requeue', { body: { ids: ['x'] } });
    expect(bad.status).toBe(400);
  });

  it('DELETE removes a row; the id is then unknown (404)', async () => {
    const deleted = await api<ActionResult>(apps.web.baseUrl, 'DELETE', `/jobs/${rows.abandoned[2].id}`);
    expect(deleted.status).toBe(200);
    expect(await findRow(apps.db.connectionString, rows.abandoned[2].id)).toBeUndefined();
    const again = await api(apps.web.baseUrl, 'DELETE', `/jobs/${rows.abandoned[2].id}`);
    expect(again.status).toBe(404);
  });

  it('the web app exits 0 on SIGTERM after all of the above', async () => {
    expect(await apps.web.app.stop()).toEqual({ code: 0, signal: null });
  });
});

import { DashboardTestApp, JSON_WRITE, send, startDashboardTestApp } from '../../../../test/support/dashboard-test-app';
import { fakeJob, fakeWorker } from '../../../../test/support/fake-background-jobs-admin';

/** The JSON API's paths, keys and status codes. */
describe('dashboard JSON API on a fake management service', () => {
  let app: DashboardTestApp;

  beforeEach(async () => {
    app = await startDashboardTestApp();
  });

  afterEach(async () => {
    await app.close();
  });

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

  it('GET /api/unrun-job-names: the live workers and the due rows none of them runs', async () => {
    expect((await send(app, 'GET', '/jobs/api/unrun-job-names')).json()).toEqual({
      liveWorkers: 0,
      jobNamesNoWorkerRuns: [],
    });
    app.admin.workerList = [fakeWorker()];
    app.admin.unrun = [{ applicationName: null, jobName: 'MyReportJobArgs ', count: 2 }];
    const response = await send(app, 'GET', '/jobs/api/unrun-job-names');
    expect(response.headers.get('cache-control')).toContain('no-store');
    expect(response.json()).toEqual({
      liveWorkers: 1,
      jobNamesNoWorkerRuns: [{ applicationName: null, jobName: 'MyReportJobArgs ', count: 2 }],
    });
  });

  it('GET /api/jobs pages by the next cursor, filters by ApplicationName or none, and refuses a bad state, limit, cursor or filter with 400', async () => {
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
    app.admin.jobs.push(fakeJob('scheduled', { applicationName: 'Billing' }));
    const listed = async (query: string) =>
      ((await send(app, 'GET', `/jobs/api/jobs?state=scheduled&${query}`)).json() as { items: unknown[] }).items.length;
    expect(await listed('applicationName=Billing')).toBe(1);
    expect(await listed('noApplication=true')).toBe(5);
    expect(await listed('noApplication=1')).toBe(5);
    expect(await listed('')).toBe(6);
    for (const query of [
      '',
      'state=nope',
      'state=waiting&limit=0',
      'state=waiting&limit=501',
      'state=waiting&after=bad',
      'state=waiting&noApplication=maybe',
      'state=waiting&noApplication=true&applicationName=Billing',
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

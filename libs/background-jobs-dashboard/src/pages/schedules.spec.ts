import {
  DashboardTestApp,
  get,
  HOSTILE,
  JSON_WRITE,
  postForm,
  send,
  startDashboardTestApp,
} from '../../../../test/support/dashboard-test-app';
import { fakeSchedule } from '../../../../test/support/fake-recurring-jobs';

/** The Schedules page, its forms and the schedules JSON API, on a fake RecurringJobs service. */
describe('dashboard schedules on a fake RecurringJobs service', () => {
  let app: DashboardTestApp;
  afterEach(async () => {
    await app.close();
  });

  it('lists each schedule with cron, zone, job, next and last run and paused, linked beside Workers', async () => {
    app = await startDashboardTestApp();
    app.schedules.schedules = [
      fakeSchedule({ lastRunTime: '2029-12-31T02:00:00.000Z', lastJobId: '0190a0b0-0000-7000-8000-00000000000a' }),
      fakeSchedule({ name: 'every-10s', cron: '*/10 * * * * *', timeZone: null, paused: true, nextRunTime: null }),
    ];
    const page = await get(app, '/jobs/schedules');
    expect(page.status).toBe(200);
    expect(page.text).toMatch(
      /href="\/jobs\/workers">Workers<\/a><\/li>\s*<li class="nav-item"><a class="nav-link active" href="\/jobs\/schedules">Schedules/,
    );
    const nightly = rowOf(page.text, 'nightly-report');
    for (const text of [
      '0 3 * * *',
      'Europe/Berlin',
      'MyReportJobArgs',
      '2030-01-02 02:00:00 UTC',
      '2029-12-31 02:00:00 UTC',
    ])
      expect(nightly).toContain(text);
    expect(nightly).toContain('href="/jobs/jobs/0190a0b0-0000-7000-8000-00000000000a"');
    expect(nightly).toContain('action="/jobs/schedules/nightly-report/pause"');
    expect(nightly).not.toContain('/resume"');
    const paused = rowOf(page.text, 'every-10s');
    expect(paused).toContain('UTC</td>');
    expect(paused).toContain('<span class="badge text-bg-warning">paused</span>');
    expect(paused).toContain('action="/jobs/schedules/every-10s/resume"');
    expect(paused).toContain('action="/jobs/schedules/every-10s/trigger"');
  });

  it('escapes a hostile schedule name and posts it URL-encoded', async () => {
    app = await startDashboardTestApp();
    app.schedules.schedules = [fakeSchedule({ name: HOSTILE })];
    const page = await get(app, '/jobs/schedules');
    expect(page.text).not.toContain(HOSTILE);
    expect(page.text).toContain('&lt;script&gt;');
    const action = /action="(\/jobs\/schedules\/[^"]+\/pause)"/.exec(page.text)![1];
    const done = await postForm(app, action.replace(/&#x3D;/g, '='), []);
    expect(done.status).toBe(303);
    expect(app.schedules.calls).toEqual([{ action: 'pause', name: HOSTILE }]);
  });

  it('pauses, resumes and triggers from the forms, and says what was done', async () => {
    app = await startDashboardTestApp();
    app.schedules.schedules = [fakeSchedule()];
    const paused = await postForm(app, '/jobs/schedules/nightly-report/pause', []);
    expect(paused.status).toBe(303);
    expect((await get(app, paused.headers.get('location')!)).text).toContain(
      'Schedule &quot;nightly-report&quot; paused.',
    );
    expect(app.schedules.schedules[0].paused).toBe(true);
    await postForm(app, '/jobs/schedules/nightly-report/resume', []);
    expect(app.schedules.schedules[0].paused).toBe(false);
    const triggered = await postForm(app, '/jobs/schedules/nightly-report/trigger', []);
    const after = await get(app, triggered.headers.get('location')!);
    expect(after.text).toContain(`triggered: job ${app.schedules.schedules[0].lastJobId} is enqueued.`);
    expect((await postForm(app, '/jobs/schedules/no-such/pause', [])).status).toBe(404);
    expect((await postForm(app, '/jobs/schedules/nightly-report/remove', [])).status).toBe(404);
  });

  it('shows no forms and refuses every write with 403 when read-only', async () => {
    app = await startDashboardTestApp({ readOnly: true });
    app.schedules.schedules = [fakeSchedule()];
    const page = await get(app, '/jobs/schedules');
    expect(page.text).toContain('nightly-report');
    expect(page.text).not.toContain('<form method="post"');
    expect((await postForm(app, '/jobs/schedules/nightly-report/pause', [])).status).toBe(403);
    const api = await send(app, 'POST', '/jobs/api/schedules/nightly-report/trigger', {
      body: '{}',
      headers: JSON_WRITE,
    });
    expect(api.status).toBe(403);
    expect(app.schedules.calls).toEqual([]);
  });

  it('GET /jobs/api/schedules lists them; POST .../pause|resume|trigger acts, with the API write rules', async () => {
    app = await startDashboardTestApp();
    app.schedules.schedules = [fakeSchedule()];
    const listed = await send(app, 'GET', '/jobs/api/schedules');
    expect([listed.status, listed.json()]).toEqual([200, app.schedules.schedules]);
    const post = (path: string, headers: Record<string, string> = JSON_WRITE) =>
      send(app, 'POST', `/jobs/api/schedules/${path}`, { body: '{}', headers });
    const paused = await post('nightly-report/pause');
    expect([paused.status, paused.json()]).toEqual([200, { name: 'nightly-report', action: 'pause' }]);
    const triggered = await post('nightly-report/trigger');
    expect(triggered.json()).toEqual({
      name: 'nightly-report',
      action: 'trigger',
      jobId: expect.any(String) as unknown,
    });
    const missing = await post('no-such/resume');
    expect([missing.status, missing.json()]).toEqual([404, { message: 'No schedule is named "no-such"' }]);
    expect((await post('nightly-report/resume', { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await post('nightly-report/resume', { ...JSON_WRITE, 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect(app.schedules.schedules[0].paused).toBe(true);
  });
});

/** The table row of one schedule. */
function rowOf(html: string, name: string): string {
  const start = html.indexOf(`<tr data-schedule="${name}">`);
  expect(start).toBeGreaterThan(-1);
  return html.slice(start, html.indexOf('</tr>', start));
}

import { StoreUnavailableError } from '@app/background-jobs';
import {
  DashboardTestApp,
  HOSTILE,
  attribute,
  get,
  send,
  startDashboardTestApp,
} from '../../../../test/support/dashboard-test-app';
import { fakeJob, fakeWorker } from '../../../../test/support/fake-background-jobs-admin';

/** Every page of the dashboard as the server renders it, from what the management service answers. */
describe('dashboard pages on a fake management service', () => {
  let app: DashboardTestApp;

  beforeEach(async () => {
    app = await startDashboardTestApp();
  });

  afterEach(async () => {
    await app.close();
  });

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

  it('marks estimated counts with "~" (a big state, its job names too; small states are exact) and draws the last hour as an SVG once history exists', async () => {
    jest.spyOn(app.admin, 'stats').mockResolvedValue({
      waiting: 1_234_567,
      scheduled: 12,
      retrying: 52_345,
      processing: 0,
      abandoned: 3,
      succeeded: 99,
      byJobName: {
        A: { waiting: 1_234_000, scheduled: 12, retrying: 52_000, processing: 0, abandoned: 3, succeeded: 99 },
        B: { waiting: 567, scheduled: 0, retrying: 345, processing: 0, abandoned: 0, succeeded: 0 },
      },
      estimated: true,
    });
    app.admin.historyPoints = [
      { minute: '2026-12-01T10:00:00.000Z', succeeded: 4, failed: 1 },
      { minute: '2026-12-01T10:01:00.000Z', succeeded: 0, failed: 2 },
    ];
    const page = await get(app, '/jobs');
    expect(page.text).toMatch(/data-count="waiting">~1.2M</);
    expect(page.text).toMatch(/data-count="retrying">~52.3K</);
    expect(page.text).toMatch(/data-count="scheduled">12</);
    expect(page.text).toMatch(/data-count="abandoned">3</);
    const rowB = /<tr data-job-name="B">[\s\S]*?<\/tr>/.exec(page.text)![0];
    expect(rowB).toMatch(/data-count="waiting">~567</);
    expect(rowB).toMatch(/data-count="scheduled">0</);
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
    // Rows with no ApplicationName: a filter of their own (an empty text field means any application).
    const withoutApplication = await get(app, '/jobs/states/abandoned?noApplication=1');
    expect(withoutApplication.text.match(/name="ids"/g)).toHaveLength(50);
    expect(withoutApplication.text).not.toContain('>Billing<');
    expect(withoutApplication.text).toContain('id="bj-no-application" checked');
    expect(attribute(withoutApplication.text, /href="([^"]+)" rel="next"/)).toContain('noApplication=1');
    const otherOnly = await get(app, '/jobs/states/abandoned?jobName=Other&noApplication=1');
    expect(otherOnly.text).not.toContain('name="ids"');
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

  it('shows the due rows no live worker runs as a group of their own: names quoted as stored, each a link to its waiting rows', async () => {
    const silent = await get(app, '/jobs');
    expect(silent.text).toContain('No worker has reported in the last 16 s.');

    app.admin.workerList = [fakeWorker()];
    const none = await get(app, '/jobs');
    expect(none.text).not.toContain('bj-unrun-job-names');
    expect(none.text).not.toContain('No worker has reported');

    app.admin.unrun = [
      { applicationName: null, jobName: 'MyReportJobArgs ', count: 1234 },
      { applicationName: 'Billing', jobName: 'Old', count: 1 },
    ];
    const page = await get(app, '/jobs');
    const group = /<div class="card[^"]*" id="bj-unrun-job-names">[\s\S]*?<\/table>/.exec(page.text)![0];
    expect(group).toContain('Due rows no live worker runs');
    expect(group).toContain('<td class="bj-name">(none)</td>');
    expect(group).toContain('<th scope="row" class="bj-name">&quot;MyReportJobArgs &quot;</th>');
    expect(group).toContain('<td class="bj-name">&quot;Billing&quot;</td>');
    expect(attribute(group, /href="([^"]+)">1,234</)).toBe(
      '/jobs/states/waiting?jobName=MyReportJobArgs+&noApplication=1',
    );
    expect(attribute(group, /href="([^"]+)">1</)).toBe('/jobs/states/waiting?jobName=Old&applicationName=Billing');
  });

  it('leaves the count of unrun names to the workers page on a table big enough for estimates, so the overview stays fast', async () => {
    app.admin.workerList = [fakeWorker()];
    app.admin.unrun = [{ applicationName: null, jobName: 'MyReportJobArgs ', count: 3 }];
    app.admin.estimated = true;
    const counted = jest.spyOn(app.admin, 'unrunJobNames');
    const overview = await get(app, '/jobs');
    expect(counted).not.toHaveBeenCalled();
    const card = /<div class="card[^"]*" id="bj-unrun-job-names">[\s\S]*?<\/div>\s*<\/div>/.exec(overview.text)![0];
    expect(card).toContain('Not counted here on a table this big');
    expect(attribute(card, /href="([^"]+)"/)).toBe('/jobs/workers#bj-unrun-job-names');
    expect(card).not.toContain('MyReportJobArgs');

    const workers = await get(app, '/jobs/workers');
    expect(counted).toHaveBeenCalledTimes(1);
    expect(workers.text).toContain('<th scope="row" class="bj-name">&quot;MyReportJobArgs &quot;</th>');
    expect(attribute(workers.text, /href="([^"]+)">3</)).toBe(
      '/jobs/states/waiting?jobName=MyReportJobArgs+&noApplication=1',
    );
  });

  it('says the database did not answer (503) on a page and in the API, and that nothing was changed', async () => {
    jest.spyOn(app.admin, 'stats').mockRejectedValue(new StoreUnavailableError(new Error('ECONNREFUSED')));
    const page = await get(app, '/jobs');
    expect(page.status).toBe(503);
    expect(page.text).toContain('The job database did not answer; nothing was changed.');
    const api = await send(app, 'GET', '/jobs/api/stats');
    expect([api.status, api.json()]).toEqual([503, { message: expect.stringContaining('did not answer') as unknown }]);
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
    app.admin.unrun = [{ applicationName: HOSTILE, jobName: HOSTILE, count: 1 }];
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

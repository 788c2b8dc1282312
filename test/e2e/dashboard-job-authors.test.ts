import { resolve } from 'node:path';
import type { ScheduleView } from '@app/background-jobs';
import { NodeProcess } from '../support/node-process';
import { DIST_DIR } from './support/apps';
import { appsOnFreshDatabase } from './support/apps-on-database';
import { alertsOf, BrowserSession, csrfTokenOf } from './support/browser-session';
import { findRow, insertRows, rowIn } from './support/dashboard-rows';
import { e2eCases, skipUnavailable } from './support/e2e-backends';

jest.setTimeout(120_000);

/** The settings of both apps, as one `.env` gives them: the worker keeps succeeded rows, and the web app knows it. */
const KEEP_SUCCEEDED = { AbpBackgroundJobWorker__StoreSuccessfulJobs: 'true' };

/**
 * What the job-authors issue added, in the dashboard of the built web app with the built worker
 * beside it: the Schedules page and its forms (a trigger's job runs), Cancel on a job's page, and
 * with StoreSuccessfulJobs the succeeded count, the last hour's chart and a job's Result.
 */
describe.each(e2eCases)('the dashboard for job authors on %s', (_label, backend) => {
  if (skipUnavailable(backend)) return;
  const apps = appsOnFreshDatabase(backend, { worker: true, env: KEEP_SUCCEEDED });
  const api = async <T>(path: string): Promise<T> =>
    (await (await fetch(`${apps.web.baseUrl}/jobs/api${path}`)).json()) as T;

  async function cli(...args: string[]): Promise<string> {
    const child = new NodeProcess({
      name: `jobs ${args.slice(0, 2).join(' ')}`,
      script: resolve(DIST_DIR, 'cli.js'),
      args,
      env: { ConnectionStrings__AbpBackgroundJobs: apps.db.connectionString, Logging__Format: 'json' },
    });
    const { code } = await child.closedWithin(60_000);
    if (code !== 0) throw new Error(`jobs ${args.join(' ')} exited ${code}: ${child.stderr}`);
    return child.rawStdout.join('\n');
  }

  it('lists a schedule on the Schedules page; pause, resume and trigger work from its forms, and the triggered job runs', async () => {
    await cli(
      'schedule', 'add', 'nightly report', '--cron', '0 3 * * *', '--job', 'MyReportJobArgs',
      '--args', '{"content":"from the schedule"}', '--tz', 'Europe/Berlin',
    ); // prettier-ignore
    const browser = new BrowserSession(apps.web.baseUrl);
    const page = await browser.get('/jobs/schedules');
    expect(page.status).toBe(200);
    const row = rowOf(page.html, 'nightly report');
    for (const text of ['0 3 * * *', 'Europe/Berlin', 'MyReportJobArgs', '<td class="bj-paused">no</td>'])
      expect(row).toContain(text);
    expect(row).toMatch(/class="bj-next-run"[^>]*>\d{4}-\d\d-\d\d \d\d:00:00 UTC</);
    expect(row).toContain('class="bj-last-run" title="">never<');

    const post = async (action: string) => {
      const answer = await browser.postForm(`/jobs/schedules/nightly%20report/${action}`, {
        _csrf: csrfTokenOf((await browser.get('/jobs/schedules')).html),
      });
      expect(answer.status).toBe(303);
      return browser.get(answer.headers.get('location')!);
    };
    const paused = await post('pause');
    expect(alertsOf(paused.html)).toEqual([{ type: 'success', text: 'Schedule "nightly report" paused.' }]);
    expect(rowOf(paused.html, 'nightly report')).toContain('<span class="badge text-bg-warning">paused</span>');
    expect((await api<ScheduleView[]>('/schedules'))[0]).toMatchObject({
      name: 'nightly report',
      paused: true,
      nextRunTime: null,
    });
    await post('resume');
    expect((await api<ScheduleView[]>('/schedules'))[0]).toMatchObject({
      paused: false,
      nextRunTime: expect.any(String) as unknown,
    });

    const triggered = await post('trigger');
    const jobId = /job ([0-9a-f-]{36}) is enqueued/.exec(alertsOf(triggered.html)[0].text)![1];
    await apps.worker.waitForLog(/Executing MyReportJob with args: from the schedule/, 30_000);
    await waitForState(jobId, 'succeeded');
    expect(apps.web.app.messages()).toContainEqual(
      expect.stringMatching(new RegExp(`^\\S*127\\.0\\.0\\.1 triggered schedule "nightly report": job ${jobId}$`)),
    );
    expect((await api<ScheduleView[]>('/schedules'))[0]).toMatchObject({ lastJobId: jobId });
  });

  it('cancels a waiting job from its page: abandoned as cancelled by the user, and logged', async () => {
    const waiting = rowIn.waiting();
    await insertRows(apps.db.connectionString, [waiting]);
    const browser = new BrowserSession(apps.web.baseUrl);
    const page = await browser.get(`/jobs/jobs/${waiting.id}`);
    expect(page.html).toContain(`action="/jobs/jobs/${waiting.id}/cancel" id="bj-cancel"`);
    const answer = await browser.postForm(`/jobs/jobs/${waiting.id}/cancel`, { _csrf: csrfTokenOf(page.html) });
    expect([answer.status, answer.headers.get('location')]).toEqual([303, `/jobs/jobs/${waiting.id}?cancel=cancelled`]);
    const after = await browser.get(answer.headers.get('location')!);
    expect(alertsOf(after.html)[0].text).toMatch(/^The job was cancelled: it will not run/);
    expect(after.html).not.toContain('id="bj-cancel"');
    const row = (await findRow(apps.db.connectionString, waiting.id))!;
    expect(row.isAbandoned).toBe(true);
    expect(JSON.parse(row.extraProperties)).toMatchObject({
      LastError: 'cancelled',
      CancelledBy: expect.stringMatching(/127\.0\.0\.1$/) as unknown,
    });
    expect(apps.web.app.messages()).toContainEqual(
      expect.stringMatching(new RegExp(`^\\S*127\\.0\\.0\\.1 cancel job ${waiting.id}: cancelled$`)),
    );
  });

  it('with StoreSuccessfulJobs: the succeeded count and the last hour as a chart, a number in /jobs/api/stats, a Result on the job page', async () => {
    const id = await cli('enqueue', '--job', 'MyReportJobArgs', '--args', '{"content":"kept"}');
    await waitForState(id.trim(), 'succeeded');
    const stats = await api<{ succeeded: number | null }>('/stats');
    expect(stats.succeeded).toBeGreaterThanOrEqual(1);
    const overview = await new BrowserSession(apps.web.baseUrl).get('/jobs');
    expect(/data-count="succeeded">([^<]*)</.exec(overview.html)![1]).toBe(String(stats.succeeded));
    expect(overview.html).toContain('<svg class="bj-chart"');
    expect(overview.html).toMatch(
      /<rect class="bj-bar bj-bar-succeeded"[^>]*><title>\d\d:\d\d UTC: \d+ succeeded<\/title>/,
    );

    const kept = rowIn.waiting({
      completionTime: new Date(),
      extraProperties: JSON.stringify({ Result: { pages: 3, title: '<b>Q3</b>' } }),
    });
    await insertRows(apps.db.connectionString, [kept]);
    const job = await new BrowserSession(apps.web.baseUrl).get(`/jobs/jobs/${kept.id}`);
    const result = /<dl class="row mb-3" id="bj-result">([\s\S]*?)<\/dl>/.exec(job.html)![1];
    expect(result).toContain('&quot;pages&quot;: 3');
    expect(result).toContain('&lt;b&gt;Q3&lt;/b&gt;');
  });

  async function waitForState(id: string, state: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    let seen: string | undefined;
    while (Date.now() < deadline) {
      seen = (await api<{ state?: string }>(`/jobs/${id}`)).state;
      if (seen === state) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`Job ${id} is ${seen}, not ${state}, after 30 s`);
  }
});

/** The Schedules table's row of one schedule. */
function rowOf(html: string, name: string): string {
  const start = html.indexOf(`<tr data-schedule="${name}">`);
  if (start < 0) throw new Error(`No row for schedule ${name} in:\n${html}`);
  return html.slice(start, html.indexOf('</tr>', start));
}

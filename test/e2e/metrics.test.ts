import { randomBytes } from 'node:crypto';
import type { TestDatabase } from '../support/databases';
import { freePort } from '../support/free-port';
import type { NodeProcess } from '../support/node-process';
import { waitFor } from '../support/wait-for';
import { startWeb, startWorker, WebApp } from './support/apps';
import { BrowserSession } from './support/browser-session';
import { e2eCases, skipUnavailable } from './support/e2e-backends';
import { countJobRows, readJobRows } from './support/job-table';
import { scrape } from './support/scrape';

jest.setTimeout(90_000);

const JOB = { job_name: 'MyReportJobArgs' };
const SUCCEEDED = { ...JOB, outcome: 'succeeded' };

/**
 * /metrics of the built web app and worker (Worker__HttpPort) after real jobs: the web app counts
 * what it enqueued and sees the waiting rows; the worker counts what it ran, by exactly the jobs
 * run, with their durations and pickup delays. Tracing is off: nothing goes into ExtraProperties,
 * and the job's log lines carry its ids but no trace id.
 */
describe.each(e2eCases)('metrics of the web app and the worker on %s', (_label, backend) => {
  if (skipUnavailable(backend)) return;
  let db: TestDatabase;
  let web: WebApp;
  let worker: NodeProcess | undefined;
  let workerUrl: string;

  beforeAll(async () => {
    db = await backend.create();
    web = await startWeb({ connectionString: db.connectionString });
  });

  afterAll(async () => {
    await Promise.all([web?.app.stop(), worker?.stop()]);
    await db?.drop();
  });

  const post = async (browser: BrowserSession, content: string) => {
    const posted = await browser.postForm('/', { _csrf: await browser.openForm(), ReportContent: content });
    expect(posted.status).toBe(303);
  };
  const executed = (content: string) => `Executing MyReportJob with args: ${content}`;

  it('counts enqueues in the web app, runs in the worker, by exactly the jobs run', async () => {
    const browser = new BrowserSession(web.baseUrl);
    const first = [1, 2, 3].map((i) => `metrics ${i} ${randomBytes(4).toString('hex')}`);
    for (const content of first) await post(browser, content);

    // No worker yet: the jobs wait, and the web app's gauges read them from the database.
    const rows = await readJobRows(db.connectionString);
    expect(rows.map((r) => r.ExtraProperties)).toEqual(['{}', '{}', '{}']);
    let webScrape = await scrape(web.baseUrl);
    expect(webScrape.value('background_jobs_enqueued_total', JOB)).toBe(3);
    expect(webScrape.value('background_jobs_waiting', JOB)).toBe(3);
    expect(webScrape.value('background_jobs_oldest_waiting_age_seconds')).toBeGreaterThan(0);
    expect(webScrape.value('background_jobs_database_up')).toBe(1);
    expect(webScrape.has('process_cpu_user_seconds_total')).toBe(true);
    expect(webScrape.has('nodejs_eventloop_lag_seconds')).toBe(true);

    const port = await freePort();
    worker = await startWorker({ connectionString: db.connectionString, env: { Worker__HttpPort: String(port) } });
    await worker.waitForLog('Worker HTTP server listening');
    workerUrl = `http://127.0.0.1:${port}`;
    for (const content of first) await worker.waitForLog(executed(content));
    await waitFor('the rows to be deleted', async () => (await countJobRows(db.connectionString)) === 0);

    let workerScrape = await scrape(workerUrl);
    expect(workerScrape.value('background_jobs_completed_total', SUCCEEDED)).toBe(3);
    expect(workerScrape.value('background_jobs_duration_seconds_count', JOB)).toBe(3);
    expect(workerScrape.value('background_jobs_pickup_delay_seconds_count', JOB)).toBe(3);
    // They were due before the worker started: each waited for it.
    expect(workerScrape.value('background_jobs_pickup_delay_seconds_sum', JOB)).toBeGreaterThan(0.3);
    expect(workerScrape.value('background_jobs_running')).toBe(0);
    expect(workerScrape.count('background_jobs_enqueued_total', JOB)).toBe(0);
    expect(workerScrape.value('background_jobs_database_up')).toBe(1);
    for (const outcome of ['failed', 'abandoned'])
      expect(workerScrape.count('background_jobs_completed_total', { ...JOB, outcome })).toBe(0);

    // Two more, with the worker running: every counter moves by exactly two.
    const second = [4, 5].map((i) => `metrics ${i} ${randomBytes(4).toString('hex')}`);
    for (const content of second) await post(browser, content);
    for (const content of second) await worker.waitForLog(executed(content));
    await waitFor('the rows to be deleted', async () => (await countJobRows(db.connectionString)) === 0);
    webScrape = await scrape(web.baseUrl);
    workerScrape = await scrape(workerUrl);
    expect(webScrape.value('background_jobs_enqueued_total', JOB)).toBe(5);
    expect(workerScrape.value('background_jobs_completed_total', SUCCEEDED)).toBe(5);
    expect(workerScrape.value('background_jobs_duration_seconds_count', JOB)).toBe(5);
    expect(workerScrape.value('background_jobs_duration_seconds_bucket', { le: '+Inf', ...JOB })).toBe(5);

    // Labels name jobs, never their args or ids.
    for (const text of [webScrape.text, workerScrape.text])
      expect(text).not.toMatch(/metrics \d|[0-9a-f]{8}-[0-9a-f]{4}-/);

    // Tracing is off: the job's log lines carry its ids and try, but no trace.
    const line = worker.linesMatching(executed(second[0]))[0];
    expect(line).toMatchObject({ jobName: 'MyReportJobArgs', tryCount: 1, jobId: expect.any(String) as unknown });
    expect(line.trace_id).toBeUndefined();
  });

  it('serves /metrics to this machine only: a request a proxy forwarded is refused by both apps', async () => {
    for (const baseUrl of [web.baseUrl, workerUrl]) {
      const refused = await fetch(`${baseUrl}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
      expect(refused.status).toBe(403);
      expect(await refused.text()).toContain('Metrics__AllowRemote=true');
    }
  });

  it('both apps exit 0 on SIGTERM', async () => {
    const ok = { code: 0, signal: null };
    expect(await Promise.all([web.app.stop(), worker!.stop()])).toEqual([ok, ok]);
  });
});

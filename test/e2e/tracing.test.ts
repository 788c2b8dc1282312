import { randomBytes } from 'node:crypto';
import { backends } from '../support/backends';
import type { TestDatabase } from '../support/databases';
import type { NodeProcess } from '../support/node-process';
import { waitFor } from '../support/wait-for';
import { startWeb, startWorker, WebApp } from './support/apps';
import { BrowserSession } from './support/browser-session';
import { readJobRows } from './support/job-table';
import { OtlpReceiver, ReceivedSpan } from './support/otlp-receiver';

jest.setTimeout(90_000);

const SERVER = 2;
const PRODUCER = 4;
const CONSUMER = 5;

/**
 * One form post followed through OpenTelemetry: both built apps export to an OTLP receiver in
 * this test (OTEL_EXPORTER_OTLP_ENDPOINT). The web app's request span is the parent of the
 * enqueue's `send` span, whose trace context the row keeps; the worker's `process` span is its
 * child and links to it, and the job's log line names the trace. The job is posted before the
 * worker starts, so the context can only have travelled in the row.
 */
describe.each(backends.filter((b) => b.name === 'sqlite' || b.name === 'postgres').map((b) => [b.name, b] as const))(
  'a trace from the form to the job on %s',
  (_name, backend) => {
    const receiver = new OtlpReceiver();
    let db: TestDatabase;
    let web: WebApp;
    let worker: NodeProcess | undefined;

    beforeAll(async () => {
      await receiver.start();
      db = await backend.create();
      web = await startWeb({ connectionString: db.connectionString, env: otelEnv() });
    });

    afterAll(async () => {
      await Promise.all([web?.app.stop(), worker?.stop()]);
      await db?.drop();
      await receiver.stop();
    });

    const otelEnv = () => ({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    const find = (predicate: (span: ReceivedSpan) => boolean) => receiver.spans.find(predicate);

    it('links the enqueue in the web request to the process span in the worker', async () => {
      const content = `traced ${randomBytes(4).toString('hex')}`;
      const browser = new BrowserSession(web.baseUrl);
      const csrf = await browser.openForm();
      expect((await browser.postForm('/', { _csrf: csrf, ReportContent: content })).status).toBe(303);

      const send = await waitFor('the send span', () => find((s) => s.name === 'send MyReportJobArgs'), 20_000);
      expect(send).toMatchObject({
        service: 'abp-background-jobs-web',
        kind: PRODUCER,
        attributes: {
          'messaging.system': 'abp_background_jobs',
          'messaging.operation.name': 'send',
          'messaging.operation.type': 'send',
          'messaging.destination.name': 'MyReportJobArgs',
        },
      });
      const request = find((s) => s.spanId === send.parentSpanId);
      expect(request).toMatchObject({ service: 'abp-background-jobs-web', kind: SERVER, traceId: send.traceId });
      expect(request?.attributes['http.method'] ?? request?.attributes['http.request.method']).toBe('POST');

      const [row] = await readJobRows(db.connectionString);
      expect(JSON.parse(row.ExtraProperties)).toEqual({ traceparent: `00-${send.traceId}-${send.spanId}-01` });

      worker = await startWorker({ connectionString: db.connectionString, env: otelEnv() });
      const executed = await worker.waitForLog(`Executing MyReportJob with args: ${content}`);
      const process = await waitFor(
        'the process span',
        () => find((s) => s.name === 'process MyReportJobArgs'),
        20_000,
      );
      expect(process).toMatchObject({
        service: 'abp-background-jobs-worker',
        kind: CONSUMER,
        traceId: send.traceId,
        parentSpanId: send.spanId,
        links: [{ traceId: send.traceId, spanId: send.spanId }],
        attributes: {
          'messaging.operation.type': 'process',
          'messaging.destination.name': 'MyReportJobArgs',
          'messaging.message.id': executed.jobId,
          'abp.background_job.try_count': 1,
          'abp.background_job.outcome': 'succeeded',
        },
      });
      expect(executed).toMatchObject({
        trace_id: send.traceId,
        span_id: process.spanId,
        jobName: 'MyReportJobArgs',
        tryCount: 1,
      });

      // Probes are not traced.
      await fetch(`${web.baseUrl}/health/ready`);
      await fetch(`${web.baseUrl}/metrics`);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const served = receiver.spans.filter((s) => s.kind === SERVER).map((s) => JSON.stringify(s.attributes));
      expect(served.some((attributes) => attributes.includes('"POST"'))).toBe(true);
      expect(served.filter((attributes) => /\/health|\/metrics/.test(attributes))).toEqual([]);
    });
  },
);

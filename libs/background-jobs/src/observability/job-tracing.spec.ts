import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { ClaimedJob } from '../store/background-job-record';
import { JobLifecycle } from '../worker/job-lifecycle';
import { JobTracing } from './job-tracing';
import { traceCarrierOf } from './trace-carrier';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

// The SDK's own registration: AsyncLocalStorage context and the W3C propagator, as the apps get it.
beforeAll(() => provider.register());
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
});
beforeEach(() => exporter.reset());

const tracer = () => provider.getTracer('test');

function claimedFrom(extraProperties: string, jobName = 'MyReportJobArgs'): ClaimedJob {
  return { id: 'a0000000-0000-4000-8000-000000000001', jobName, tryCount: 2, extraProperties } as ClaimedJob;
}

describe('JobTracing', () => {
  it('wraps an enqueue in a PRODUCER send span and hands its W3C trace context to the rows', async () => {
    const lifecycle = new JobLifecycle();
    lifecycle.listen(new JobTracing(tracer()));
    const parent = tracer().startSpan('POST /');
    const stored = await context.with(trace.setSpan(context.active(), parent), () =>
      lifecycle.enqueue([{ id: 'id-1', jobName: 'MyReportJobArgs' }], async (extra) => JSON.stringify(extra)),
    );
    parent.end();

    const [send] = exporter.getFinishedSpans().filter((s) => s.name === 'send MyReportJobArgs');
    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(send.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(send.attributes).toMatchObject({
      'messaging.system': 'abp_background_jobs',
      'messaging.operation.name': 'send',
      'messaging.operation.type': 'send',
      'messaging.destination.name': 'MyReportJobArgs',
      'messaging.message.id': 'id-1',
    });
    expect(traceCarrierOf(stored)).toEqual({
      traceparent: `00-${send.spanContext().traceId}-${send.spanContext().spanId}-01`,
    });
  });

  it('records a failed enqueue on its span', async () => {
    const lifecycle = new JobLifecycle();
    lifecycle.listen(new JobTracing(tracer()));
    await expect(
      lifecycle.enqueue(
        [
          { id: 'a', jobName: 'A' },
          { id: 'b', jobName: 'B' },
        ],
        () => Promise.reject(new TypeError('no database')),
      ),
    ).rejects.toThrow('no database');
    const [send] = exporter.getFinishedSpans();
    expect(send.name).toBe('send');
    expect(send.attributes['messaging.batch.message_count']).toBe(2);
    expect(send.status).toEqual({ code: SpanStatusCode.ERROR, message: 'no database' });
    expect(send.attributes['error.type']).toBe('TypeError');
    expect(send.events.map((e) => e.name)).toEqual(['exception']);
  });

  it("runs a job in a CONSUMER process span, child of and linked to the enqueue's context, active while it runs", async () => {
    const tracing = new JobTracing(tracer());
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const job = claimedFrom(JSON.stringify({ traceparent, LastError: 'earlier' }));
    const activeInJob = await tracing.aroundJob(job, async () => {
      await Promise.resolve();
      return trace.getActiveSpan()?.spanContext();
    });
    tracing.jobEnded({ job, outcome: 'succeeded', durationMs: 3 });

    const [process] = exporter.getFinishedSpans();
    expect(process.name).toBe('process MyReportJobArgs');
    expect(process.kind).toBe(SpanKind.CONSUMER);
    expect(activeInJob?.spanId).toBe(process.spanContext().spanId);
    expect(process.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(process.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(process.links.map((l) => l.context.spanId)).toEqual(['b7ad6b7169203331']);
    expect(process.attributes).toMatchObject({
      'messaging.operation.type': 'process',
      'messaging.destination.name': 'MyReportJobArgs',
      'messaging.message.id': job.id,
      'abp.background_job.try_count': 2,
      'abp.background_job.outcome': 'succeeded',
    });
    expect(process.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('starts a new trace for a row enqueued without one, and records failures and abandonment', async () => {
    const tracing = new JobTracing(tracer());
    const failing = claimedFrom('{}');
    tracing.aroundJob(failing, () => undefined);
    tracing.jobEnded({ job: failing, outcome: 'failed', durationMs: 1, error: new RangeError('bad input') });
    tracing.jobEnded({ job: claimedFrom('not json'), outcome: 'abandoned', durationMs: 0, error: 'lost try' });

    const [failed, abandoned] = exporter.getFinishedSpans();
    expect(failed.parentSpanContext).toBeUndefined();
    expect(failed.links).toEqual([]);
    expect(failed.status).toEqual({ code: SpanStatusCode.ERROR, message: 'bad input' });
    expect(failed.attributes['error.type']).toBe('RangeError');
    expect(abandoned.name).toBe('process MyReportJobArgs');
    expect(abandoned.status).toEqual({ code: SpanStatusCode.ERROR, message: 'lost try' });
    expect(abandoned.attributes['abp.background_job.outcome']).toBe('abandoned');
  });
});

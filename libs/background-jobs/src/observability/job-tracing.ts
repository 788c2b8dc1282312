import {
  Attributes,
  context,
  Context,
  Link,
  propagation,
  ROOT_CONTEXT,
  Span,
  SpanKind,
  SpanStatusCode,
  trace,
  Tracer,
} from '@opentelemetry/api';
import type { ClaimedJob } from '../store/background-job-record';
import type { EnqueuedJobs, EnqueueSend, JobEnded, JobLifecycleListener } from '../worker/job-lifecycle';
import {
  ATTR_ERROR_TYPE,
  ATTR_MESSAGING_BATCH_MESSAGE_COUNT,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
  ATTR_OUTCOME,
  ATTR_TRY_COUNT,
  MESSAGING_SYSTEM,
} from './messaging-attributes';
import { traceCarrierOf } from './trace-carrier';

export const TRACER_NAME = 'abp-background-jobs';

/**
 * Spans by OpenTelemetry's messaging conventions, through the global OpenTelemetry API (a no-op
 * until an SDK registers): a PRODUCER `send <job name>` span around each enqueue call, whose W3C
 * trace context goes into every row's ExtraProperties, and in the worker a CONSUMER
 * `process <job name>` span around each run, the child of that context and linked to it, so a
 * trace runs from the request that enqueued into the job. Failures are recorded on the spans.
 * Register it only while tracing is on: it writes the trace context into the rows.
 */
export class JobTracing implements JobLifecycleListener {
  private readonly spans = new WeakMap<ClaimedJob, Span>();

  constructor(private readonly tracer: Tracer = trace.getTracer(TRACER_NAME)) {}

  aroundEnqueue<T>(jobs: EnqueuedJobs, send: EnqueueSend<T>): Promise<T> {
    const names = [...new Set(jobs.map((j) => j.jobName))];
    const attributes: Attributes = {
      [ATTR_MESSAGING_SYSTEM]: MESSAGING_SYSTEM,
      [ATTR_MESSAGING_OPERATION_NAME]: 'send',
      [ATTR_MESSAGING_OPERATION_TYPE]: 'send',
    };
    if (names.length === 1) attributes[ATTR_MESSAGING_DESTINATION_NAME] = names[0];
    if (jobs.length === 1) attributes[ATTR_MESSAGING_MESSAGE_ID] = jobs[0].id;
    else attributes[ATTR_MESSAGING_BATCH_MESSAGE_COUNT] = jobs.length;
    const name = names.length === 1 ? `send ${names[0]}` : 'send';
    return this.tracer.startActiveSpan(name, { kind: SpanKind.PRODUCER, attributes }, async (span) => {
      const carrier: Record<string, string> = {};
      propagation.inject(context.active(), carrier);
      try {
        return await send(carrier);
      } catch (error) {
        recordFailure(span, error);
        throw error;
      } finally {
        span.end();
      }
    });
  }

  aroundJob<T>(job: ClaimedJob, run: () => T): T {
    const { span, parent } = this.startProcessSpan(job);
    this.spans.set(job, span);
    return context.with(trace.setSpan(parent, span), run);
  }

  jobEnded({ job, outcome, error }: JobEnded): void {
    // A row abandoned without running (its worker died on the last try) gets a span of its own.
    const span = this.spans.get(job) ?? this.startProcessSpan(job).span;
    this.spans.delete(job);
    span.setAttribute(ATTR_OUTCOME, outcome);
    if (outcome === 'failed' || outcome === 'abandoned') recordFailure(span, error);
    else if (outcome === 'interrupted') span.addEvent('interrupted by shutdown; released to run again');
    span.end();
  }

  private startProcessSpan(job: ClaimedJob): { span: Span; parent: Context } {
    const carrier = traceCarrierOf(job.extraProperties);
    const parent = carrier ? propagation.extract(ROOT_CONTEXT, carrier) : ROOT_CONTEXT;
    const enqueue = carrier ? trace.getSpanContext(parent) : undefined;
    const links: Link[] = enqueue ? [{ context: enqueue }] : [];
    const span = this.tracer.startSpan(
      `process ${job.jobName}`,
      {
        kind: SpanKind.CONSUMER,
        links,
        attributes: {
          [ATTR_MESSAGING_SYSTEM]: MESSAGING_SYSTEM,
          [ATTR_MESSAGING_OPERATION_NAME]: 'process',
          [ATTR_MESSAGING_OPERATION_TYPE]: 'process',
          [ATTR_MESSAGING_DESTINATION_NAME]: job.jobName,
          [ATTR_MESSAGING_MESSAGE_ID]: job.id,
          [ATTR_TRY_COUNT]: job.tryCount,
        },
      },
      parent,
    );
    return { span, parent };
  }
}

function recordFailure(span: Span, error: unknown): void {
  if (error instanceof Error) {
    span.recordException(error);
    span.setAttribute(ATTR_ERROR_TYPE, error.name);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  } else {
    span.setAttribute(ATTR_ERROR_TYPE, '_OTHER');
    span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
  }
}

import { trace } from '@opentelemetry/api';
import type { ClaimedJob, JobLifecycleListener } from '@app/background-jobs';
import { jobLogFields } from '../config/job-log-fields';

/**
 * Runs each job in a logging context of its own, so every line the job logs (through a Nest
 * Logger, as AsyncBackgroundJob's `this.logger`, or any pino logger of the app) carries its jobId,
 * jobName and tryCount, and with tracing on the trace_id and span_id of its process span (the
 * names OpenTelemetry's pino instrumentation uses), so logs and traces meet. The root logger's
 * mixin (jobLogMixin) adds them.
 */
export class JobLogContext implements JobLifecycleListener {
  /** `withTraceIds`: tracing is on, and runs outside this listener (it must be added first). */
  constructor(private readonly withTraceIds: boolean) {}

  aroundJob<T>(job: ClaimedJob, run: () => T): T {
    const fields: Record<string, unknown> = { jobId: job.id, jobName: job.jobName, tryCount: job.tryCount };
    if (this.withTraceIds) {
      const span = trace.getActiveSpan()?.spanContext();
      if (span) {
        fields.trace_id = span.traceId;
        fields.span_id = span.spanId;
      }
    }
    return jobLogFields.run(fields, run);
  }
}

import { trace } from '@opentelemetry/api';
import type pino from 'pino';
import { storage, Store } from 'nestjs-pino/storage';
import type { ClaimedJob, JobLifecycleListener } from '@app/background-jobs';

/**
 * Runs each job with a pino child logger of its own as nestjs-pino's logger in context, so every
 * line the job logs (through a Nest Logger, as AsyncBackgroundJob's `this.logger`) carries its
 * jobId, jobName and tryCount, and with tracing on the trace_id and span_id of its process span
 * (the names OpenTelemetry's pino instrumentation uses), so logs and traces meet. The child is made
 * on the job's first line: a job that logs nothing pays for none.
 */
export class JobLogContext implements JobLifecycleListener {
  /**
   * `root`: the logger the job's lines would go to out of context (nestjs-pino's, as a
   * PinoLogger outside any request gives it); `withTraceIds`: tracing is on, and runs outside this
   * listener (it must be added first).
   */
  constructor(
    private readonly root: pino.Logger,
    private readonly withTraceIds: boolean,
  ) {}

  aroundJob<T>(job: ClaimedJob, run: () => T): T {
    const bindings: pino.Bindings = { jobId: job.id, jobName: job.jobName, tryCount: job.tryCount };
    if (this.withTraceIds) {
      const span = trace.getActiveSpan()?.spanContext();
      if (span) Object.assign(bindings, { trace_id: span.traceId, span_id: span.spanId });
    }
    return storage.run(lazyStore(this.root, bindings), run);
  }
}

/** nestjs-pino reads `logger` of the store in context for each line; PinoLogger.assign() sets it. */
function lazyStore(root: pino.Logger, bindings: pino.Bindings): Store {
  let child: pino.Logger | undefined;
  return {
    get logger(): pino.Logger {
      return (child ??= root.child(bindings));
    },
    set logger(value: pino.Logger) {
      child = value;
    },
    responseLogger: undefined,
  };
}

import { Writable } from 'node:stream';
import { ConfigService } from '@nestjs/config';
import { context, trace } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import pino from 'pino';
import type { ClaimedJob } from '@app/background-jobs';
import { jobLogMerge } from '../config/job-log-fields';
import { loggerOptions } from '../config/logger-options';
import { JobLogContext } from './job-log-context';

/** A pino logger built from the app's own JSON options, its lines parsed into `lines`. */
function appLogger(lines: Array<Record<string, unknown>>): pino.Logger {
  const params = loggerOptions(new ConfigService({ Logging__Format: 'json', Logging__Level: 'info' }), false).pinoHttp;
  const options = (Array.isArray(params) ? params[0] : params) as pino.LoggerOptions;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return pino(options, sink);
}

const job = { id: 'a0000000-0000-4000-8000-000000000001', jobName: 'MyReportJobArgs', tryCount: 3 } as ClaimedJob;
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('JobLogContext', () => {
  it("puts the job's id, name and try on every line logged while it runs, before and after an await, and on no other line", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = appLogger(lines);
    await new JobLogContext(false).aroundJob(job, async () => {
      logger.info({ context: 'MyReportJob' }, 'first');
      await new Promise((resolve) => setTimeout(resolve, 5));
      logger.info('second');
    });
    logger.info({ context: 'BackgroundJobWorker' }, 'outside');
    await flush();
    const fields = { jobId: job.id, jobName: 'MyReportJobArgs', tryCount: 3 };
    expect(lines).toEqual([
      expect.objectContaining({ ...fields, context: 'MyReportJob', msg: 'first' }),
      expect.objectContaining({ ...fields, msg: 'second' }),
      expect.not.objectContaining({ jobId: job.id }),
    ]);
    expect(lines[0].trace_id).toBeUndefined();
  });

  it('adds the trace and span ids of the span the job runs in, when tracing is on', async () => {
    const provider = new NodeTracerProvider();
    provider.register();
    try {
      const lines: Array<Record<string, unknown>> = [];
      const logger = appLogger(lines);
      const span = provider.getTracer('test').startSpan('process MyReportJobArgs');
      context.with(trace.setSpan(context.active(), span), () =>
        new JobLogContext(true).aroundJob(job, () => logger.info('inside')),
      );
      span.end();
      await flush();
      expect(lines[0]).toMatchObject({
        trace_id: span.spanContext().traceId,
        span_id: span.spanContext().spanId,
        jobId: job.id,
      });
    } finally {
      await provider.shutdown();
      trace.disable();
      context.disable();
    }
  });

  it("lets a line's own fields win over the job's", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = appLogger(lines);
    new JobLogContext(false).aroundJob(job, () => logger.info({ tryCount: 'own' }, 'override'));
    await flush();
    expect(lines).toEqual([expect.objectContaining({ jobId: job.id, jobName: 'MyReportJobArgs', tryCount: 'own' })]);
  });
});

describe('jobLogMerge', () => {
  it("keeps a line's own __proto__ key (an object from JSON.parse) a field, never the merged object's prototype", () => {
    const merged = jobLogMerge(JSON.parse('{"__proto__": {"polluted": true}, "note": "n"}') as object, {
      jobId: job.id,
    });
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(Object.keys(merged)).toEqual(['jobId', '__proto__', 'note']);
  });
});

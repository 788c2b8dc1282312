import { Injectable, OnApplicationShutdown, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { JobLifecycle, JobTracing } from '@app/background-jobs';
import { JobLogContext } from './job-log-context';
import { shutdownTracing, tracingStarted } from './tracing';

/**
 * Adds the job's trace span (when tracing is on) and its log context to every job's run, in that
 * order, so the log context finds the span; at shutdown, exports the spans still buffered.
 */
@Injectable()
export class JobObservers implements OnModuleInit, OnModuleDestroy, OnApplicationShutdown {
  private readonly removals: Array<() => void> = [];

  constructor(private readonly lifecycle: JobLifecycle) {}

  onModuleInit(): void {
    const tracing = tracingStarted();
    if (tracing) this.removals.push(this.lifecycle.listen(new JobTracing()));
    this.removals.push(this.lifecycle.listen(new JobLogContext(tracing)));
  }

  onModuleDestroy(): void {
    for (const remove of this.removals.splice(0)) remove();
  }

  /** After the worker has stopped (beforeApplicationShutdown): the last process spans have ended. */
  async onApplicationShutdown(): Promise<void> {
    await shutdownTracing();
  }
}

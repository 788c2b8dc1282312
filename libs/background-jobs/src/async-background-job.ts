import { Logger } from '@nestjs/common';

/** What a running job knows about its own execution. */
export interface BackgroundJobContext {
  /** The row's Id. */
  readonly jobId: string;
  readonly jobName: string;
  /** 1 on the first try. */
  readonly tryCount: number;
  /** Fires when the worker shuts down or the job's timeout passes: stop soon and throw. */
  readonly signal: AbortSignal;
}

/**
 * ABP's `AsyncBackgroundJob<TArgs>`: extend it, decorate with @BackgroundJob(ArgsClass). What
 * `execute` resolves to is the job's result: kept in ExtraProperties.Result when the worker keeps
 * successful jobs (StoreSuccessfulJobs), so it must be JSON-serialisable; most jobs return nothing.
 */
export abstract class AsyncBackgroundJob<TArgs, TResult = unknown> {
  protected readonly logger = new Logger(this.constructor.name);

  abstract execute(args: TArgs, context: BackgroundJobContext): Promise<TResult>;
}

import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { BackgroundJobRegistry } from '../background-job.registry';
import { BACKGROUND_JOBS_OPTIONS } from '../background-jobs.tokens';
import { ResolvedBackgroundJobsOptions } from '../background-jobs.options';
import { BACKGROUND_JOB_STORE, BackgroundJobStore } from '../store/background-job-store';
import { BackgroundJobWorker, createBackgroundJobWorker } from './background-job-worker';
import { ForeignJobNamesReport } from './foreign-job-names';
import { WorkerHousekeeping } from './worker-housekeeping';
import { JobLifecycle } from './job-lifecycle';
import { JobRunner } from './job-runner';
import { WorkerWakeup } from './worker-wakeup';

/**
 * Starts the worker after bootstrap when IsJobExecutionEnabled, and stops it in
 * beforeApplicationShutdown, before TypeORM closes its DataSource in onApplicationShutdown.
 */
@Injectable()
export class WorkerOrchestrator implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('BackgroundJobWorker');
  private worker?: BackgroundJobWorker;
  private housekeeping?: WorkerHousekeeping;

  constructor(
    @Inject(BACKGROUND_JOBS_OPTIONS) private readonly options: ResolvedBackgroundJobsOptions,
    @Inject(BACKGROUND_JOB_STORE) private readonly store: BackgroundJobStore,
    private readonly registry: BackgroundJobRegistry,
    private readonly wakeup: WorkerWakeup,
    private readonly lifecycle: JobLifecycle,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.options.isJobExecutionEnabled) return;
    const jobNames = this.jobNamesToRun();
    const worker = createBackgroundJobWorker(
      this.store,
      new JobRunner(this.registry, this.options.worker.jobExecutionTimeout * 1000),
      this.options.worker,
      jobNames,
      this.logger,
      this.lifecycle,
    );
    this.worker = worker;
    this.wakeup.listen(() => worker.wake());
    const {
      applicationName,
      jobPollPeriod,
      maxParallelJobExecutionCount,
      jobLeaseDuration,
      jobExecutionTimeout,
      shutdownTimeout,
    } = this.options.worker;
    this.logger.log(
      `Worker started on ${this.store.dialect}: application=${applicationName ?? '(null)'} jobs=[${jobNames.join(', ')}] ` +
        `parallel=${maxParallelJobExecutionCount} poll=${jobPollPeriod}ms lease=${jobLeaseDuration}s ` +
        `timeout=${jobExecutionTimeout}s shutdownTimeout=${shutdownTimeout}s wakeups=${this.store.notifier?.description ?? 'poll'}`,
    );
    // Started once bootstrap has finished, so the app's own logger (set after bootstrap, with the
    // lines buffered until then) is in place before the first job runs: a job that kills its worker
    // at start must not take the buffered start-up lines with it.
    setImmediate(
      () =>
        void worker
          .start()
          .catch((error: unknown) => this.logger.error(`The worker could not start: ${String(error)}`)),
    );
    const foreignNames = new ForeignJobNamesReport(
      this.store,
      applicationName,
      new Set(this.registry.jobNames),
      this.logger,
    );
    this.housekeeping = new WorkerHousekeeping(this.store, foreignNames, this.logger);
    this.housekeeping.start();
  }

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    await this.housekeeping?.stop();
    this.wakeup.listen(undefined);
    this.logger.log(
      `Stopping${signal ? ` on ${signal}` : ''}: no new jobs; waiting up to ${this.options.worker.shutdownTimeout}s for running ones`,
    );
    const s = await worker.stop(this.options.worker.shutdownTimeout * 1000);
    this.logger.log(
      `Worker stopped: succeeded=${s.succeeded} failed=${s.failed} abandoned=${s.abandoned} released=${s.released} refused=${s.refused}`,
    );
  }

  private jobNamesToRun(): string[] {
    const registered = this.registry.jobNames;
    const wanted = this.options.worker.jobNames;
    if (wanted.length === 0) return registered;
    const unknown = wanted.filter((name) => !registered.includes(name));
    if (unknown.length > 0) {
      throw new Error(
        `The worker is told to run job names that no job is registered for: ${unknown.join(', ')} (registered: ${registered.join(', ')})`,
      );
    }
    return wanted;
  }
}

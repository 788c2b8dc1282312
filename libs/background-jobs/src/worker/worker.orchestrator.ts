import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { BackgroundJobRegistry } from '../background-job.registry';
import { BACKGROUND_JOBS_OPTIONS } from '../background-jobs.tokens';
import { ResolvedBackgroundJobsOptions } from '../background-jobs.options';
import { BACKGROUND_JOB_STORE, BackgroundJobStore } from '../store/background-job-store';
import { BackgroundJobWorker, createBackgroundJobWorker, WorkerSummary } from './background-job-worker';
import { PlannedWorker, planWorkers } from './dedicated-workers';
import { ForeignJobNamesReport } from './foreign-job-names';
import { WorkerHousekeeping } from './worker-housekeeping';
import { JobLifecycle } from './job-lifecycle';
import { JobRunner } from './job-runner';
import { SharedWorkNotifier } from './shared-work-notifier';
import { SuccessfulJobCleanup } from './successful-job-cleanup';
import { WorkerWakeup } from './worker-wakeup';
import { CancellationWatcher } from '../cancellation/cancellation-watcher';
import { RecurringJobExplorer } from '../schedules/recurring-job.explorer';
import { RecurringJobScheduler } from '../schedules/recurring-job-scheduler';
import { WorkerHeartbeat } from './worker-heartbeat';

/**
 * What a health probe reads of the worker. 'disabled': this app does not execute jobs; 'starting':
 * not bootstrapped yet; 'stopping': shutdown is draining it; 'stopped': it has finished.
 */
export interface WorkerStatus {
  state: 'disabled' | 'starting' | 'running' | 'stopping' | 'stopped';
  /** Date.now() when the claim loop last went round (it does at least once per poll period). */
  lastClaimLoopTickAt?: number;
  /** Date.now() when the worker was created. */
  startedAt?: number;
  pollPeriodMs: number;
  runningJobs: number;
}

/**
 * Starts the workers after bootstrap when IsJobExecutionEnabled (the default worker, and ABP's
 * dedicated workers beside it), and stops them in beforeApplicationShutdown, before TypeORM closes
 * its DataSource in onApplicationShutdown.
 */
@Injectable()
export class WorkerOrchestrator implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('BackgroundJobWorker');
  private workers: BackgroundJobWorker[] = [];
  private housekeeping?: WorkerHousekeeping;
  private scheduler?: RecurringJobScheduler;
  private cancellations?: CancellationWatcher;
  private heartbeat?: WorkerHeartbeat;
  private state: WorkerStatus['state'] = 'starting';
  private startedAt?: number;
  /** The workers being drained or drained, for the status while shutdown goes on. */
  private lastWorkers: BackgroundJobWorker[] = [];

  constructor(
    @Inject(BACKGROUND_JOBS_OPTIONS) private readonly options: ResolvedBackgroundJobsOptions,
    @Inject(BACKGROUND_JOB_STORE) private readonly store: BackgroundJobStore,
    private readonly registry: BackgroundJobRegistry,
    private readonly wakeup: WorkerWakeup,
    private readonly lifecycle: JobLifecycle,
    private readonly recurringJobs: RecurringJobExplorer,
  ) {}

  /** Read-only, for health probes and metrics. */
  get status(): WorkerStatus {
    const workers = this.workers.length > 0 ? this.workers : this.lastWorkers;
    // The process is as live as its slowest claim loop (a dedicated worker's counts too).
    const ticks = workers.map((w) => w.lastClaimLoopTickAt);
    return {
      state: this.options.isJobExecutionEnabled ? this.state : 'disabled',
      lastClaimLoopTickAt: ticks.some((t) => t === undefined) ? undefined : Math.min(...(ticks as number[])),
      startedAt: this.startedAt,
      pollPeriodMs: this.options.worker.jobPollPeriod,
      runningJobs: runningJobs(workers),
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.options.isJobExecutionEnabled) return;
    const options = this.options.worker;
    const planned = planWorkers(this.registry, options);
    if (options.storeSuccessfulJobs) await this.assertCompletionTimeColumn();
    const runner = new JobRunner(this.registry, options.jobExecutionTimeout * 1000);
    const shared = planned.length > 1 && this.store.notifier ? new SharedWorkNotifier(this.store.notifier) : undefined;
    const workers = planned.map((plan) =>
      createBackgroundJobWorker(
        this.store,
        runner,
        options,
        plan.jobNames,
        plan.dedicated ? new Logger(`BackgroundJobWorker:${plan.lockName}`) : this.logger,
        this.lifecycle,
        shared ? shared.forWorker() : this.store.notifier,
      ),
    );
    this.workers = workers;
    this.lastWorkers = workers;
    this.state = 'running';
    this.startedAt = Date.now();
    this.wakeup.listen(() => workers.forEach((worker) => worker.wake()));
    planned.forEach((plan) => this.logStart(plan));
    // Started once bootstrap has finished, so the app's own logger (set after bootstrap, with the
    // lines buffered until then) is in place before the first job runs: a job that kills its worker
    // at start must not take the buffered start-up lines with it.
    setImmediate(() => {
      for (const worker of workers) {
        void worker
          .start()
          .catch((error: unknown) => this.logger.error(`The worker could not start: ${String(error)}`));
      }
    });
    const foreignNames = new ForeignJobNamesReport(
      this.store,
      options.applicationName,
      () => this.registry.jobNames,
      this.logger,
    );
    this.housekeeping = new WorkerHousekeeping(
      this.store,
      foreignNames,
      this.logger,
      undefined,
      options.storeSuccessfulJobs
        ? { cleanup: new SuccessfulJobCleanup(this.store, options), periodMs: options.cleanSuccessfulJobsPeriod }
        : undefined,
    );
    this.housekeeping.start();
    // One heartbeat row per process, for the default worker and its dedicated workers together. Its
    // job names are read at each beat (the row takes a copy), so a handler registered at run time
    // shows too: the dashboard's "due rows no live worker runs" goes by them.
    this.heartbeat = new WorkerHeartbeat(
      this.store,
      {
        applicationName: options.applicationName,
        get jobNames() {
          return [...new Set(planned.flatMap((plan) => plan.jobNames.current))];
        },
        maxParallel: options.maxParallelJobExecutionCount * workers.length,
      },
      () => runningJobs(workers),
      this.logger,
    );
    this.heartbeat.start();
    this.startRecurringJobsAndCancellations(workers);
  }

  /** The scheduler of recurring jobs, and the watcher that brings cancel requests to this process's workers. */
  private startRecurringJobsAndCancellations(workers: BackgroundJobWorker[]): void {
    this.scheduler = new RecurringJobScheduler(
      this.store.schedules,
      this.recurringJobs.declarations,
      {
        applicationName: this.options.worker.applicationName,
        refreshMs: Math.max(this.options.worker.jobPollPeriod, 1000),
      },
      new Logger('RecurringJobs'),
    );
    this.scheduler.start();
    this.cancellations = new CancellationWatcher(this.store.cancellations, this.logger);
    for (const worker of workers) this.cancellations.attach(worker);
    void this.cancellations
      .start()
      .catch((error: unknown) => this.logger.error(`Cancel requests are not watched: ${String(error)}`));
  }

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    const workers = this.workers;
    if (workers.length === 0) return;
    this.workers = [];
    this.state = 'stopping';
    await this.housekeeping?.stop();
    await this.scheduler?.stop();
    this.wakeup.listen(undefined);
    this.logger.log(
      `Stopping${signal ? ` on ${signal}` : ''}: no new jobs; waiting up to ${this.options.worker.shutdownTimeout}s for running ones`,
    );
    const summaries = await Promise.all(workers.map((w) => w.stop(this.options.worker.shutdownTimeout * 1000)));
    const s = summaries.reduce(addSummaries);
    await this.cancellations?.stop();
    await this.heartbeat?.stop();
    this.state = 'stopped';
    this.logger.log(
      `Worker stopped: succeeded=${s.succeeded} failed=${s.failed} abandoned=${s.abandoned} released=${s.released} refused=${s.refused}`,
    );
    await this.lifecycle.drain();
  }

  private logStart(plan: PlannedWorker): void {
    const o = this.options.worker;
    const jobs = `jobs=[${plan.jobNames.current.join(', ')}]`;
    if (plan.dedicated) {
      this.logger.log(
        `Dedicated worker "${plan.lockName}" started: ${jobs} parallel=${o.maxParallelJobExecutionCount}`,
      );
      return;
    }
    const kept = o.storeSuccessfulJobs
      ? ` storeSuccessfulJobs=true retention=${o.successfulJobRetentionTime === null ? 'forever' : `${o.successfulJobRetentionTime}s`}`
      : '';
    this.logger.log(
      `Worker started on ${this.store.dialect}: application=${o.applicationName ?? '(null)'} ${jobs} ` +
        `parallel=${o.maxParallelJobExecutionCount} poll=${o.jobPollPeriod}ms lease=${o.jobLeaseDuration}s ` +
        `timeout=${o.jobExecutionTimeout}s shutdownTimeout=${o.shutdownTimeout}s wakeups=${this.store.notifier?.description ?? 'poll'}${kept}`,
    );
  }

  /** A table made by ABP before 10.6 lacks CompletionTime, and this module adds none of ABP's columns. */
  private async assertCompletionTimeColumn(): Promise<void> {
    if (await this.store.hasCompletionTimeColumn()) return;
    throw new Error(
      'StoreSuccessfulJobs is unavailable: the AbpBackgroundJobs table has no CompletionTime column (a table made ' +
        "by ABP before 10.6). ABP's own 10.6 migration adds it (this module adds none of ABP's columns, so that " +
        "ABP's migrations never meet them); run it and restart, or set AbpBackgroundJobWorker__StoreSuccessfulJobs=false.",
    );
  }
}

function addSummaries(a: WorkerSummary, b: WorkerSummary): WorkerSummary {
  return {
    succeeded: a.succeeded + b.succeeded,
    failed: a.failed + b.failed,
    abandoned: a.abandoned + b.abandoned,
    released: a.released + b.released,
    refused: a.refused + b.refused,
  };
}

/** Jobs running now in these workers together. */
function runningJobs(workers: BackgroundJobWorker[]): number {
  return workers.reduce((sum, worker) => sum + worker.runningJobCount, 0);
}

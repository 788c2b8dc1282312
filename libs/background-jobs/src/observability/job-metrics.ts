import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ClaimedJob } from '../store/background-job-record';
import type { EnqueueBatch } from '../store/background-job-store';
import type { JobEnded, JobLifecycleListener } from '../worker/job-lifecycle';

/** The names dashboards and alerts rely on (docs/grafana-dashboard.json, the README's alert rules). */
export const JOB_METRICS = {
  enqueued: 'background_jobs_enqueued_total',
  completed: 'background_jobs_completed_total',
  duration: 'background_jobs_duration_seconds',
  pickupDelay: 'background_jobs_pickup_delay_seconds',
  running: 'background_jobs_running',
} as const;

/** From 1 ms (a job that logs a line) to an hour (JobExecutionTimeout's default). */
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
/** From a NOTIFY wake-up (milliseconds) past the default poll period (5 s) to a backlog of an hour. */
const PICKUP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

type CompletedOutcome = 'succeeded' | 'failed' | 'abandoned';

/**
 * Records the job metrics of one process from its JobLifecycle: enqueues where jobs are enqueued,
 * runs where they run. Labels are job names only (never args or ids), so their number is bounded
 * by the job names registered. 'interrupted' runs (stopped by shutdown, released to run again)
 * are not completions.
 */
export class JobMetrics implements JobLifecycleListener {
  private readonly enqueued: Counter<'job_name'>;
  private readonly completed: Counter<'job_name' | 'outcome'>;
  private readonly duration: Histogram<'job_name'>;
  private readonly pickupDelay: Histogram<'job_name'>;
  private readonly running: Gauge;
  /** Runs started here and not yet ended; a row abandoned before it ran ends without starting. */
  private readonly started = new WeakSet<ClaimedJob>();

  constructor(
    registry: Registry,
    private readonly now: () => number = Date.now,
  ) {
    const registers = [registry];
    this.enqueued = new Counter({
      name: JOB_METRICS.enqueued,
      help: 'Jobs written by enqueue calls in this process.',
      labelNames: ['job_name'],
      registers,
    });
    this.completed = new Counter({
      name: JOB_METRICS.completed,
      help: "Job runs that ended in this process, by outcome: 'failed' runs again later, 'abandoned' never.",
      labelNames: ['job_name', 'outcome'],
      registers,
    });
    this.duration = new Histogram({
      name: JOB_METRICS.duration,
      help: 'How long job runs took, whatever their outcome.',
      labelNames: ['job_name'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.pickupDelay = new Histogram({
      name: JOB_METRICS.pickupDelay,
      help: "From a job's due time (the row's NextTryTime when claimed) to its start.",
      labelNames: ['job_name'],
      buckets: PICKUP_BUCKETS,
      registers,
    });
    this.running = new Gauge({ name: JOB_METRICS.running, help: 'Jobs running in this process now.', registers });
  }

  jobsEnqueued(batch: EnqueueBatch): void {
    // A batch is usually of one job name: one increment per run of equal names.
    const jobs = batch.jobs;
    let start = 0;
    for (let i = 1; i <= jobs.length; i++) {
      if (i < jobs.length && jobs[i].jobName === jobs[start].jobName) continue;
      this.enqueued.inc({ job_name: jobs[start].jobName }, i - start);
      start = i;
    }
  }

  jobStarted(job: ClaimedJob): void {
    this.started.add(job);
    this.running.inc();
    // Clocks of the enqueuing and claiming machines may differ a little; a delay is never negative.
    this.pickupDelay.observe({ job_name: job.jobName }, Math.max(0, this.now() - job.dueTime.getTime()) / 1000);
  }

  jobEnded({ job, outcome, durationMs }: JobEnded): void {
    const ran = this.started.delete(job);
    if (ran) this.running.dec();
    if (outcome === 'interrupted') return;
    this.completed.inc({ job_name: job.jobName, outcome: outcome satisfies CompletedOutcome });
    if (ran) this.duration.observe({ job_name: job.jobName }, durationMs / 1000);
  }
}

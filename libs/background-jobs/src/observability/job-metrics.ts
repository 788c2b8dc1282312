import { Counter, Gauge, Registry } from 'prom-client';
import type { ClaimedJob } from '../store/background-job-record';
import type { EnqueueBatch } from '../store/background-job-store';
import type { JobEnded, JobLifecycleListener } from '../worker/job-lifecycle';
import { JobNameHistogram } from './job-name-histogram';

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
const COMPLETED_OUTCOMES: readonly CompletedOutcome[] = ['succeeded', 'failed', 'abandoned'];

/** A job name's counts, kept as plain numbers on the job path and added to the counters when scraped. */
interface JobNameCounts {
  enqueued: number;
  succeeded: number;
  failed: number;
  abandoned: number;
}

/**
 * Records the job metrics of one process from its JobLifecycle: enqueues where jobs are enqueued,
 * runs where they run. Labels are job names only (never args or ids), so their number is bounded
 * by the job names registered. 'interrupted' runs (stopped by shutdown, released to run again)
 * are not completions. The job path only adds to numbers (about 0.1 µs a job); prom-client's
 * metrics get them when scraped.
 */
export class JobMetrics implements JobLifecycleListener {
  private readonly counts = new Map<string, JobNameCounts>();
  private readonly duration: JobNameHistogram;
  private readonly pickupDelay: JobNameHistogram;
  /** Runs started here and not yet ended; a row abandoned before it ran ends without starting. */
  private readonly started = new WeakSet<ClaimedJob>();

  /** `runningJobs`: how many jobs this process runs now (the worker's own count); none when absent. */
  constructor(
    registry: Registry,
    runningJobs: () => number = () => 0,
    private readonly now: () => number = Date.now,
  ) {
    const registers = [registry];
    new Counter({
      name: JOB_METRICS.enqueued,
      help: 'Jobs written by enqueue calls in this process.',
      labelNames: ['job_name'],
      registers,
      collect: totalsOf(this.counts, (counter, jobName, counts) => {
        if (counts.enqueued > 0) counter.inc({ job_name: jobName }, counts.enqueued);
      }),
    });
    new Counter({
      name: JOB_METRICS.completed,
      help: "Job runs that ended in this process, by outcome: 'failed' runs again later, 'abandoned' never.",
      labelNames: ['job_name', 'outcome'],
      registers,
      collect: totalsOf(this.counts, (counter, jobName, counts) => {
        for (const outcome of COMPLETED_OUTCOMES)
          if (counts[outcome] > 0) counter.inc({ job_name: jobName, outcome }, counts[outcome]);
      }),
    });
    this.duration = new JobNameHistogram(
      JOB_METRICS.duration,
      'How long job runs took, whatever their outcome.',
      DURATION_BUCKETS,
      registry,
    );
    this.pickupDelay = new JobNameHistogram(
      JOB_METRICS.pickupDelay,
      "From a job's due time (the row's NextTryTime when claimed) to its start.",
      PICKUP_BUCKETS,
      registry,
    );
    new Gauge({
      name: JOB_METRICS.running,
      help: 'Jobs running in this process now.',
      registers,
      collect() {
        this.set(runningJobs());
      },
    });
  }

  jobsEnqueued(batch: EnqueueBatch): void {
    for (const job of batch.jobs) this.countsOf(job.jobName).enqueued++;
  }

  jobStarted(job: ClaimedJob): void {
    this.started.add(job);
    // Clocks of the enqueuing and claiming machines may differ a little; a delay is never negative.
    this.pickupDelay.observe(job.jobName, Math.max(0, this.now() - job.dueTime.getTime()) / 1000);
  }

  jobEnded({ job, outcome, durationMs }: JobEnded): void {
    if (outcome === 'interrupted') return;
    this.countsOf(job.jobName)[outcome satisfies CompletedOutcome]++;
    if (this.started.delete(job)) this.duration.observe(job.jobName, durationMs / 1000);
  }

  private countsOf(jobName: string): JobNameCounts {
    let counts = this.counts.get(jobName);
    if (!counts) this.counts.set(jobName, (counts = { enqueued: 0, succeeded: 0, failed: 0, abandoned: 0 }));
    return counts;
  }
}

/** A counter's collect(): reset, then the totals, in one synchronous step, so every scrape reads the totals. */
function totalsOf<T extends string>(
  counts: ReadonlyMap<string, JobNameCounts>,
  add: (counter: Counter<T>, jobName: string, counts: JobNameCounts) => void,
) {
  return function (this: Counter<T>): void {
    this.reset();
    for (const [jobName, jobCounts] of counts) add(this, jobName, jobCounts);
  };
}

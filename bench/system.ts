import type { NodeProcess } from '../test/support/node-process';

/** One row of the table: a job system in one configuration, on its own fresh database. */
export interface SystemUnderTest {
  /** e.g. "graphile-worker 0.17.3, concurrency 24, localQueue 500". */
  system: string;
  store: 'PostgreSQL' | 'SQLite' | 'Redis';
  /** Fresh database (or key prefix) with the system's schema in place, nothing consuming. */
  prepare(): Promise<void>;
  /** The one batch call the burn-down uses; resolves when it has committed. */
  enqueueBatch(contents: string[]): Promise<void>;
  /** The enqueue-rate call (defaults to enqueueBatch; pg-boss: chunks of 1000). */
  enqueueForRate?(contents: string[]): Promise<void>;
  /** Jobs still waiting or running in the store. */
  remaining(): Promise<number>;
  /** Deletes every job (between the enqueue-rate run and the burn-down). */
  clear(): Promise<void>;
  /** Starts the consumer process and resolves once it is ready and idle. */
  startConsumer(): Promise<NodeProcess>;
  /** Ways to enqueue one job for the latency run; the first is the row's figure, others get rows of their own. */
  latencyProbes?(): LatencyProbe[];
  /** Extra one-at-a-time enqueue measurement (ours): count and jobs/s. */
  singleEnqueueRate?(count: number): Promise<number>;
  /** Frees everything prepare made (the consumer is stopped by the runner first). */
  dispose(): Promise<void>;
}

export interface LatencyProbe {
  /** What is timed, e.g. "form POST to the web app -> job start". */
  label: string;
  /** Enqueues one job with this content; returns the clock time just before its request was sent. */
  enqueue(content: string): Promise<number>;
}

export interface SystemResult {
  system: string;
  store: string;
  jobs: number;
  burnDownJobsPerSec?: number;
  burnDownMs?: number;
  enqueueJobsPerSec?: number;
  latencyP50Ms?: number;
  latencyP95Ms?: number;
  latencySamples?: number;
  /** VmHWM of the consumer after its first burn-down, and after all rounds. */
  peakRssFirstMiB?: number;
  peakRssMiB?: number;
  ratioToGraphileBatched?: number;
  /** Enqueue jobs/s over graphile-worker's add_jobs (the batched configuration's row). */
  enqueueRatioToGraphile?: number;
  /** CPU time during the burn-down: the consumer process, the database server's processes, the bench itself. */
  consumerCpuMs?: number;
  databaseCpuMs?: number;
  benchCpuMs?: number;
  /** Every round's figure (jobs/s); the row's figure is their median. */
  enqueueSamples?: number[];
  burnDownSamples?: number[];
  /** What the latency measures. */
  latencyOf?: string;
  error?: string;
}

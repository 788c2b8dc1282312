import { Gauge, Registry } from 'prom-client';
import type { BackgroundJobStore } from '../store/background-job-store';

export const BACKLOG_METRICS = {
  waiting: 'background_jobs_waiting',
  oldestWaitingAge: 'background_jobs_oldest_waiting_age_seconds',
  databaseUp: 'background_jobs_database_up',
} as const;

export interface BacklogMetricsOptions {
  /** Rows of this application (null: of none), as the worker claims them. */
  applicationName: string | null;
  /** A scrape sooner than this after the last read shows the last read. */
  minIntervalMs?: number;
  /** A read slower than this is answered with background_jobs_database_up 0 (it goes on in the background). */
  timeoutMs?: number;
}

/**
 * The backlog gauges, read from the database when scraped, at most once per `minIntervalMs`
 * however many scrapes come: waiting rows per job name (store.countDueByJobName) and the age of
 * the oldest one (store.oldestDueTime, one index seek). While the database cannot be read,
 * background_jobs_database_up is 0, the waiting series are dropped and the age is NaN, so an
 * alert on them neither fires nor clears on stale figures.
 */
export class BacklogMetrics {
  private readonly waiting: Gauge<'job_name'>;
  private readonly oldestAge: Gauge;
  private readonly databaseUp: Gauge;
  private readonly minIntervalMs: number;
  private readonly timeoutMs: number;
  private readAt = Number.NEGATIVE_INFINITY;
  private reading?: Promise<void>;

  constructor(
    registry: Registry,
    private readonly store: Pick<BackgroundJobStore, 'countDueByJobName' | 'oldestDueTime'>,
    private readonly options: BacklogMetricsOptions,
  ) {
    this.minIntervalMs = options.minIntervalMs ?? 5000;
    this.timeoutMs = options.timeoutMs ?? 2000;
    const registers = [registry];
    const collect = () => this.refresh();
    this.waiting = new Gauge({
      name: BACKLOG_METRICS.waiting,
      help: 'Jobs due and not yet claimed, by job name (the 100 names with the most).',
      labelNames: ['job_name'],
      registers,
      collect,
    });
    this.oldestAge = new Gauge({
      name: BACKLOG_METRICS.oldestWaitingAge,
      help: 'How long the longest-waiting due job has been due (0: none waits).',
      registers,
      collect,
    });
    this.databaseUp = new Gauge({
      name: BACKLOG_METRICS.databaseUp,
      help: 'Whether the job database answered the last backlog read (1) or not (0).',
      registers,
      collect,
    });
  }

  /** Reads the backlog unless it was read within minIntervalMs; waits at most timeoutMs for it. */
  refresh(): Promise<void> {
    if (!this.reading && Date.now() - this.readAt >= this.minIntervalMs) {
      this.reading = this.read().finally(() => {
        this.readAt = Date.now();
        this.reading = undefined;
      });
    }
    const reading = this.reading;
    if (!reading) return Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.markDown();
        resolve();
      }, this.timeoutMs);
    });
    return Promise.race([reading, timedOut]).finally(() => clearTimeout(timer));
  }

  private async read(): Promise<void> {
    const now = new Date();
    const { applicationName } = this.options;
    try {
      const [counts, oldest] = await Promise.all([
        this.store.countDueByJobName(applicationName, now),
        this.store.oldestDueTime(applicationName, now),
      ]);
      this.waiting.reset();
      for (const { jobName, count } of counts) this.waiting.set({ job_name: jobName }, count);
      this.oldestAge.set(oldest === null ? 0 : Math.max(0, now.getTime() - oldest.getTime()) / 1000);
      this.databaseUp.set(1);
    } catch {
      this.markDown();
    }
  }

  private markDown(): void {
    this.waiting.reset();
    this.oldestAge.set(Number.NaN);
    this.databaseUp.set(0);
  }
}

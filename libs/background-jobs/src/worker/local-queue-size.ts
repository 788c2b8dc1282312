/**
 * How many claimed-but-not-started jobs a worker keeps: about one second of work, from a moving
 * average of job durations. Fast jobs get large claims (few round trips, like graphile-worker's
 * local queue of 500); slow jobs get small ones, so one worker does not hoard rows that idle
 * workers could run, and a crash repeats at most one small batch.
 */
export class LocalQueueSize {
  private averageMs?: number;
  private readonly max: number;
  private readonly min: number;

  constructor(
    private readonly parallel: number,
    maxJobFetchCount: number,
  ) {
    this.max = Math.max(1, Math.min(maxJobFetchCount, 500));
    this.min = Math.min(this.max, parallel);
  }

  get target(): number {
    if (this.averageMs === undefined) return Math.min(this.max, Math.max(4 * this.parallel, 10));
    const perSecond = (this.parallel * 1000) / Math.max(this.averageMs, 0.5);
    return Math.round(Math.min(this.max, Math.max(this.min, perSecond)));
  }

  observe(durationMs: number): void {
    this.averageMs = this.averageMs === undefined ? durationMs : this.averageMs * 0.9 + durationMs * 0.1;
  }
}

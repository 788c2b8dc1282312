/**
 * How many claimed-but-not-started jobs a worker keeps: enough to cover about 50 ms of work (a
 * claim's round trip under load), from a moving average of job durations. Short jobs get large
 * claims, up to ABP's MaxJobFetchCount (default 1000) and never more than 1000, so the worker
 * does not wait on claim round trips; longer ones about one per slot, so a worker never hoards
 * rows that its peers could be running. Rows a crashed worker held but had not started wait for
 * their lease to end; they do not run twice.
 */
const COVERED_MS = 50;
const MAX_LOCAL_QUEUE = 1000;

export class LocalQueueSize {
  private averageMs?: number;
  private readonly max: number;
  private readonly min: number;

  constructor(
    private readonly parallel: number,
    maxJobFetchCount: number,
  ) {
    this.max = Math.max(1, Math.min(maxJobFetchCount, MAX_LOCAL_QUEUE));
    this.min = Math.min(this.max, parallel);
  }

  get target(): number {
    if (this.averageMs === undefined) return Math.min(this.max, Math.max(2 * this.parallel, 4));
    const covering = (this.parallel * COVERED_MS) / Math.max(this.averageMs, 0.1);
    return Math.round(Math.min(this.max, Math.max(this.min, covering)));
  }

  observe(durationMs: number): void {
    this.averageMs = this.averageMs === undefined ? durationMs : this.averageMs * 0.9 + durationMs * 0.1;
  }
}

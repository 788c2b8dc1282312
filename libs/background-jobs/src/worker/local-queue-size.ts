/**
 * How many claimed-but-not-started jobs a worker keeps: enough to cover about 50 ms of work (a
 * claim's round trip under load), from a moving average of job durations. Short jobs get large
 * claims (few round trips; like graphile-worker's local queue of 500); longer ones about one per
 * slot, so a worker never hoards rows that other workers could be running (a worker holding a
 * second of 50 ms jobs left its peers idle and the backlog took longer), and a crash repeats at
 * most one small batch.
 */
const COVERED_MS = 50;

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
    if (this.averageMs === undefined) return Math.min(this.max, Math.max(2 * this.parallel, 4));
    const covering = (this.parallel * COVERED_MS) / Math.max(this.averageMs, 0.1);
    return Math.round(Math.min(this.max, Math.max(this.min, covering)));
  }

  observe(durationMs: number): void {
    this.averageMs = this.averageMs === undefined ? durationMs : this.averageMs * 0.9 + durationMs * 0.1;
  }
}

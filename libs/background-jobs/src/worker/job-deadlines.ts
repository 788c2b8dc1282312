/**
 * Job timeouts. Short ones get a timer each; long ones (the default JobExecutionTimeout is an
 * hour) are checked by one shared sweep every second instead: creating and clearing a timer per
 * job costs CPU on the path every job takes, and an hour's timeout does not need millisecond
 * precision.
 */
export const SWEPT_TIMEOUT_MS = 60_000;
const SWEEP_EVERY_MS = 1000;

export type CancelDeadline = () => void;

export class JobDeadlines {
  private readonly swept = new Set<{ at: number; fire: () => void }>();
  private sweeper?: NodeJS.Timeout;

  /** Calls `fire` once `timeoutMs` have passed, unless the returned function is called first. */
  start(timeoutMs: number, fire: () => void): CancelDeadline {
    if (timeoutMs < SWEPT_TIMEOUT_MS) {
      const timer = setTimeout(fire, timeoutMs);
      return () => clearTimeout(timer);
    }
    const entry = { at: Date.now() + timeoutMs, fire };
    this.swept.add(entry);
    if (!this.sweeper) {
      this.sweeper = setInterval(() => this.sweep(), SWEEP_EVERY_MS);
      this.sweeper.unref();
    }
    return () => {
      this.swept.delete(entry);
    };
  }

  private sweep(): void {
    const now = Date.now();
    for (const entry of this.swept) {
      if (entry.at > now) continue;
      this.swept.delete(entry);
      entry.fire();
    }
    if (this.swept.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }
}

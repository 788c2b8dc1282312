import { BackgroundJobStore, FailedJobUpdate } from '../store/background-job-store';

/**
 * Gathers the outcomes of finished jobs and writes them in as few statements as possible: one
 * DELETE per lease token for successes, one UPDATE batch for failures. Writes that fail (the
 * database is away) stay queued and are tried again; rows stay held until written.
 */
export class ResultWriter {
  private completions = new Map<string, string[]>();
  private failures: FailedJobUpdate[] = [];
  private flushing?: Promise<void>;
  private scheduled = false;
  private retryTimer?: NodeJS.Timeout;
  private retryDelay = 200;

  constructor(
    private readonly store: BackgroundJobStore,
    /** `startedAt`: when the write was sent (an outage is over only for writes sent after it began). */
    private readonly onWritten: (ids: string[], refused: number, startedAt: number) => void,
    private readonly onError: (error: unknown) => void,
  ) {}

  get pending(): number {
    let n = this.failures.length;
    for (const ids of this.completions.values()) n += ids.length;
    return n;
  }

  complete(leaseToken: string, id: string): void {
    const ids = this.completions.get(leaseToken);
    if (ids) ids.push(id);
    else this.completions.set(leaseToken, [id]);
    this.schedule();
  }

  fail(update: FailedJobUpdate): void {
    this.failures.push(update);
    this.schedule();
  }

  /** Writes everything queued; resolves when nothing is pending or a write failed. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.pending === 0) return;
    this.flushing = this.writeOnce().finally(() => (this.flushing = undefined));
    await this.flushing;
  }

  dispose(): void {
    clearTimeout(this.retryTimer);
  }

  private schedule(): void {
    if (this.scheduled || this.retryTimer) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async writeOnce(): Promise<void> {
    const startedAt = Date.now();
    const completions = this.completions;
    const failures = this.failures;
    this.completions = new Map();
    this.failures = [];
    try {
      for (const [token, ids] of completions) {
        const written = await this.store.complete(token, ids);
        completions.delete(token);
        this.onWritten(ids, ids.length - written, startedAt);
      }
      if (failures.length > 0) {
        const written = await this.store.fail(failures);
        const ids = failures.splice(0).map((f) => f.id);
        this.onWritten(ids, ids.length - written, startedAt);
      }
      this.retryDelay = 200;
      if (this.pending > 0) this.schedule();
    } catch (error) {
      for (const [token, ids] of completions) this.completions.set(token, [...ids, ...(this.completions.get(token) ?? [])]);
      this.failures.unshift(...failures);
      this.onError(error);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        void this.flush();
      }, this.retryDelay);
      this.retryDelay = Math.min(this.retryDelay * 2, 5000);
    }
  }
}

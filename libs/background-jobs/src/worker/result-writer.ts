import { BackgroundJobStore, CompletedJobUpdate, FailedJobUpdate } from '../store/background-job-store';

/** One write's answer: how many of its rows the database did not change, and what was asked. */
export interface WrittenResults {
  ids: string[];
  /** Rows the write presented a lease token for and did not change. */
  refused: number;
  /** When the write was sent (an outage is over only for writes sent after it began). */
  startedAt: number;
  /** An earlier attempt at this write failed in the client, so it may have gone through all the same. */
  retried: boolean;
  /** A DELETE of succeeded jobs under this lease token; or the updates of kept succeeded rows; or the failure updates. */
  completed?: { leaseToken: string };
  kept?: CompletedJobUpdate[];
  failures?: FailedJobUpdate[];
}

/**
 * Gathers the outcomes of finished jobs and writes them in as few statements as possible: one
 * DELETE per lease token for successes (or one UPDATE batch for those kept, with
 * StoreSuccessfulJobs), one UPDATE batch for failures. Writes that fail (the database is away)
 * stay queued and are tried again; rows stay held until written.
 */
export class ResultWriter {
  private completions = new Map<string, string[]>();
  private kept: CompletedJobUpdate[] = [];
  private failures: FailedJobUpdate[] = [];
  private flushing?: Promise<void>;
  private scheduled = false;
  private retryTimer?: NodeJS.Timeout;
  private retryDelay = 200;
  /** Ids whose write failed once and waits to be sent again. */
  private readonly retriedIds = new Set<string>();

  constructor(
    private readonly store: BackgroundJobStore,
    private readonly onWritten: (written: WrittenResults) => void,
    private readonly onError: (error: unknown) => void,
  ) {}

  get pending(): number {
    let n = this.failures.length + this.kept.length;
    for (const ids of this.completions.values()) n += ids.length;
    return n;
  }

  complete(leaseToken: string, id: string): void {
    const ids = this.completions.get(leaseToken);
    if (ids) ids.push(id);
    else this.completions.set(leaseToken, [id]);
    this.schedule();
  }

  /** A succeeded job whose row is kept (StoreSuccessfulJobs). */
  keep(update: CompletedJobUpdate): void {
    this.kept.push(update);
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

  /** Whether any of these ids had a failed attempt before; forgets them. */
  private wasRetried(ids: string[]): boolean {
    if (this.retriedIds.size === 0) return false;
    let retried = false;
    for (const id of ids) if (this.retriedIds.delete(id)) retried = true;
    return retried;
  }

  private async writeOnce(): Promise<void> {
    const startedAt = Date.now();
    const completions = this.completions;
    const kept = this.kept;
    const failures = this.failures;
    this.completions = new Map();
    this.kept = [];
    this.failures = [];
    try {
      for (const [token, ids] of completions) {
        const written = await this.store.complete(token, ids);
        completions.delete(token);
        this.onWritten({
          ids,
          refused: ids.length - written,
          startedAt,
          retried: this.wasRetried(ids),
          completed: { leaseToken: token },
        });
      }
      if (kept.length > 0) {
        const written = await this.store.completeAndKeep(kept);
        const sent = kept.splice(0);
        const ids = sent.map((k) => k.id);
        this.onWritten({ ids, refused: ids.length - written, startedAt, retried: this.wasRetried(ids), kept: sent });
      }
      if (failures.length > 0) {
        const written = await this.store.fail(failures);
        const sent = failures.splice(0);
        const ids = sent.map((f) => f.id);
        this.onWritten({
          ids,
          refused: ids.length - written,
          startedAt,
          retried: this.wasRetried(ids),
          failures: sent,
        });
      }
      this.retryDelay = 200;
      if (this.pending > 0) this.schedule();
    } catch (error) {
      for (const [token, ids] of completions) {
        for (const id of ids) this.retriedIds.add(id);
        this.completions.set(token, [...ids, ...(this.completions.get(token) ?? [])]);
      }
      for (const update of [...kept, ...failures]) this.retriedIds.add(update.id);
      this.kept.unshift(...kept);
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

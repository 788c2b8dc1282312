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
 * Writes out at once, at most. The results of one moment go in one write; while writes are out,
 * the results that finish meanwhile go in the next, so one slow commit does not hold back every
 * later result (the executor starts no job while too many are unwritten, see
 * UNWRITTEN_RESULTS_PER_SLOT). Beside two claims and a lease renewal this leaves room in a pool
 * of 10 connections (TypeORM's default) for the app's own queries.
 */
const MAX_WRITES_OUT = 6;

/** What one write carries: the successes under one lease token, a batch of kept successes, or a batch of failures. */
type ResultBatch =
  { leaseToken: string; ids: string[] } | { kept: CompletedJobUpdate[] } | { failures: FailedJobUpdate[] };

function idsOf(batch: ResultBatch): string[] {
  if ('failures' in batch) return batch.failures.map((f) => f.id);
  if ('kept' in batch) return batch.kept.map((k) => k.id);
  return batch.ids;
}

/**
 * Gathers the outcomes of finished jobs and writes them in as few statements as possible: one
 * DELETE per lease token for successes (or one UPDATE batch for those kept, with
 * StoreSuccessfulJobs), one UPDATE batch for failures, up to MAX_WRITES_OUT of
 * them at once. Writes that fail (the database is away) stay queued and are tried again with a
 * growing pause; rows stay held until written.
 */
export class ResultWriter {
  private completions = new Map<string, string[]>();
  private kept: CompletedJobUpdate[] = [];
  private failures: FailedJobUpdate[] = [];
  /** The writes out now; each resolves to whether it went through. */
  private readonly writesOut = new Set<Promise<boolean>>();
  /** Results in the writes out now. */
  private writing = 0;
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

  /** Results waiting for a write (not counting the writes out now). */
  get pending(): number {
    let n = this.failures.length + this.kept.length;
    for (const ids of this.completions.values()) n += ids.length;
    return n;
  }

  /** Results not known to be written: waiting, or in a write that is out now. */
  get unwritten(): number {
    return this.pending + this.writing;
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

  /** Writes everything queued, now (a pause after a failed write is cut short); resolves when nothing is unwritten or a write failed. */
  async flush(): Promise<void> {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    for (;;) {
      this.startWrites();
      if (this.writesOut.size === 0) return;
      const outcomes = await Promise.all([...this.writesOut]);
      if (outcomes.includes(false)) return;
    }
  }

  dispose(): void {
    clearTimeout(this.retryTimer);
  }

  /** One round of writes on the next turn of the event loop: the results of one moment travel together. */
  private schedule(): void {
    if (this.scheduled || this.retryTimer) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.retryTimer) this.startWrites();
    });
  }

  private startWrites(): void {
    for (
      let batch = this.nextBatch();
      batch;
      batch = this.writesOut.size < MAX_WRITES_OUT ? this.nextBatch() : undefined
    ) {
      const write: Promise<boolean> = this.write(batch).finally(() => this.writesOut.delete(write));
      this.writesOut.add(write);
    }
  }

  private nextBatch(): ResultBatch | undefined {
    if (this.writesOut.size >= MAX_WRITES_OUT) return undefined;
    if (this.failures.length > 0) return { failures: this.failures.splice(0) };
    if (this.kept.length > 0) return { kept: this.kept.splice(0) };
    for (const [leaseToken, ids] of this.completions) {
      this.completions.delete(leaseToken);
      return { leaseToken, ids };
    }
    return undefined;
  }

  /** Whether any of these ids had a failed attempt before; forgets them. */
  private wasRetried(ids: string[]): boolean {
    if (this.retriedIds.size === 0) return false;
    let retried = false;
    for (const id of ids) if (this.retriedIds.delete(id)) retried = true;
    return retried;
  }

  private async write(batch: ResultBatch): Promise<boolean> {
    const startedAt = Date.now();
    const ids = idsOf(batch);
    this.writing += ids.length;
    let written: number;
    try {
      written =
        'failures' in batch
          ? await this.store.fail(batch.failures)
          : 'kept' in batch
            ? await this.store.completeAndKeep(batch.kept)
            : await this.store.complete(batch.leaseToken, ids);
    } catch (error) {
      this.writing -= ids.length;
      this.putBack(batch, ids);
      this.onError(error);
      if (!this.retryTimer) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.startWrites();
        }, this.retryDelay);
        this.retryDelay = Math.min(this.retryDelay * 2, 5000);
      }
      return false;
    }
    this.writing -= ids.length;
    this.retryDelay = 200;
    this.onWritten({
      ids,
      refused: ids.length - written,
      startedAt,
      retried: this.wasRetried(ids),
      ...('failures' in batch
        ? { failures: batch.failures }
        : 'kept' in batch
          ? { kept: batch.kept }
          : { completed: { leaseToken: batch.leaseToken } }),
    });
    if (this.pending > 0) this.schedule();
    return true;
  }

  /** A write that failed goes back to the front of the queue, to be sent again. */
  private putBack(batch: ResultBatch, ids: string[]): void {
    for (const id of ids) this.retriedIds.add(id);
    if ('failures' in batch) {
      this.failures.unshift(...batch.failures);
      return;
    }
    if ('kept' in batch) {
      this.kept.unshift(...batch.kept);
      return;
    }
    const later = this.completions.get(batch.leaseToken) ?? [];
    this.completions.delete(batch.leaseToken);
    this.completions = new Map([[batch.leaseToken, [...ids, ...later]], ...this.completions]);
  }
}

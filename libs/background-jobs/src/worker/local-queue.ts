import { ClaimedJob, sortInDequeueOrder } from '../store/background-job-record';
import { LocalQueueSize } from './local-queue-size';

/** Rows this worker has claimed and not started yet, in ABP's dequeue order; its size target follows job durations. */
export class LocalQueue {
  private rows: ClaimedJob[] = [];

  constructor(private readonly size: LocalQueueSize) {}

  get length(): number {
    return this.rows.length;
  }

  /** How many rows the queue should hold to cover the next moments of work. */
  get target(): number {
    return this.size.target;
  }

  add(claimed: ClaimedJob[]): void {
    this.rows = sortInDequeueOrder(this.rows.concat(claimed));
  }

  /** The next row to run, or undefined when the queue is empty. */
  next(): ClaimedJob | undefined {
    return this.rows.shift();
  }

  /** Takes one row out (a cancelled job); undefined when it is not queued. */
  remove(id: string): ClaimedJob | undefined {
    const index = this.rows.findIndex((row) => row.id === id);
    return index < 0 ? undefined : this.rows.splice(index, 1)[0];
  }

  /** Empties the queue (at shutdown): the rows that never started. */
  takeAll(): ClaimedJob[] {
    const rows = this.rows;
    this.rows = [];
    return rows;
  }

  recordJobDuration(ms: number): void {
    this.size.observe(ms);
  }
}

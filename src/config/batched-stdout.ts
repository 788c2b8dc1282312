import pino from 'pino';

export interface LineSink {
  write(text: string): unknown;
}

/**
 * Log lines joined into one write per burst: the lines logged while the current run of
 * microtasks goes on are written together, synchronously, as soon as it has drained. A write per
 * line was the largest single cost of a busy worker (bench/README.md).
 * Nothing waits for a timer or the event loop's next turn, so a line is out before any later I/O
 * of the process: a job's line is written before the statement that deletes its row is sent, and
 * a SIGKILL can lose only the lines of the burst it interrupts. Pending lines go out on exit.
 */
export class BatchedLines implements LineSink {
  private pending = '';
  private queued = false;

  constructor(private readonly sink: LineSink) {}

  write(line: string): boolean {
    this.pending += line;
    if (!this.queued) {
      this.queued = true;
      queueMicrotask(() => this.flush());
    }
    return true;
  }

  flush(): void {
    this.queued = false;
    if (this.pending.length === 0) return;
    const text = this.pending;
    this.pending = '';
    this.sink.write(text);
  }
}

let stdout: BatchedLines | undefined;

/** stdout through pino's synchronous writer (which retries partial writes and EAGAIN), batched; one per process. */
export function batchedStdout(): BatchedLines {
  if (!stdout) {
    const lines = new BatchedLines(pino.destination({ dest: 1, sync: true }));
    process.on('exit', () => lines.flush());
    stdout = lines;
  }
  return stdout;
}

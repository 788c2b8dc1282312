/**
 * `BENCH_WORKER_NODE_ARGS="--require ./dist/bench/support/result-write-timing.js"
 * BENCH_WORKER_ENV=RESULT_WRITE_TIMING_FILE=/tmp/writes.log`: times our worker's result writes from
 * inside its process and appends, as it exits, one line to that file (stderr without it): writes,
 * succeeded rows per write, how long a finished job's result waited before its write was sent, the
 * write's round trip (sent to answer read, the event loop's delay included) and the writes already
 * out when one was sent. Under the result bound (at most 4 x MaxParallel jobs running or unwritten)
 * a burn-down runs at about bound / (wait + round trip); see bench/README.md.
 */
import { appendFileSync } from 'node:fs';
import { ResultWriter } from '../../libs/background-jobs/src/worker/result-writer';

interface WriterInternals {
  complete: (this: WriterInternals, leaseToken: string, id: string) => void;
  write: (this: WriterInternals, batch: unknown) => Promise<boolean>;
  writesOut: Set<unknown>;
}

const finishedAt = new Map<string, number>();
const totals = { writes: 0, rows: 0, waitMs: 0, roundTripMs: 0, writesOut: 0 };
const writer = ResultWriter.prototype as unknown as WriterInternals;
const complete = writer.complete;
const write = writer.write;

writer.complete = function (this: WriterInternals, leaseToken: string, id: string) {
  finishedAt.set(id, performance.now());
  complete.call(this, leaseToken, id);
};

writer.write = async function (this: WriterInternals, batch: unknown) {
  const sent = performance.now();
  const ids = (batch as { ids?: string[] }).ids ?? [];
  totals.writes++;
  totals.writesOut += this.writesOut.size; // the set takes this write once it is sent
  for (const id of ids) {
    const finished = finishedAt.get(id);
    if (finished === undefined) continue;
    finishedAt.delete(id);
    totals.rows++;
    totals.waitMs += sent - finished;
  }
  try {
    return await write.call(this, batch);
  } finally {
    totals.roundTripMs += performance.now() - sent;
  }
};

process.on('exit', () => {
  if (totals.writes === 0) return;
  const round = (n: number) => Math.round(n * 100) / 100;
  const line =
    `result writes: ${totals.writes}, succeeded rows per write ${round(totals.rows / totals.writes)}, ` +
    `wait before sent ${round(totals.waitMs / Math.max(totals.rows, 1))} ms, ` +
    `round trip ${round(totals.roundTripMs / totals.writes)} ms, ` +
    `writes already out ${round(totals.writesOut / totals.writes)}\n`;
  const file = process.env.RESULT_WRITE_TIMING_FILE;
  if (file) appendFileSync(file, line);
  else process.stderr.write(line);
});

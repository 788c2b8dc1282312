import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { ClaimCostResult } from './claim-cost';
import type { FloorResult } from './floor';
import { BenchRun, formatClaimCost, formatEqualConcurrency, formatFloor, formatScaleOut, formatTable } from './report';
import type { ScaleOutResult } from './scale-out';
import type { SystemResult } from './system';

const START = '<!-- bench:start (written by npm run bench) -->';
const END = '<!-- bench:end -->';

/**
 * Rewrites what lies between the README's bench markers with this run's tables and the chart
 * beside them; the prose around the markers (how each figure is measured) is left as it is.
 */
export function updateReadmeTable(
  file: string,
  results: SystemResult[],
  scaleOut: ScaleOutResult[] | undefined,
  claimCost: ClaimCostResult[] | undefined,
  floor: FloorResult | undefined,
  run: BenchRun,
): void {
  const readme = readFileSync(file, 'utf8');
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${file} has no bench markers (${START} ... ${END})`);
  const machine = `${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), Node.js ${process.version}`;
  const pairings = formatEqualConcurrency(results);
  const block = [
    START,
    '',
    `The latest full run (${run.startedAt.toISOString().slice(0, 10)}, ${Math.round(run.durationMs / 60_000)} min, ` +
      `${run.jobs.toLocaleString('en-US')} jobs, median of ${run.rounds} rounds) on ${machine}, PostgreSQL and Redis on loopback:`,
    '',
    '![burn-down, enqueue and pickup latency per system](docs/bench.svg)',
    '',
    formatTable(results),
    ...(pairings ? ['', 'Each of ours against the peer run with as many jobs at once:', '', pairings] : []),
    ...(scaleOut
      ? [
          '',
          'Burn-down with several worker processes on one PostgreSQL database, and the CPU each job cost:',
          '',
          formatScaleOut(scaleOut),
        ]
      : []),
    ...(claimCost ? ['', 'What one claim costs as the table grows:', '', formatClaimCost(claimCost)] : []),
    ...(floor
      ? [
          '',
          `What this machine's PostgreSQL takes before any job system's code runs, one statement every ${floor.pauseMs} ms over one connection (the latency probes' pace):`,
          '',
          formatFloor(floor, results, scaleOut),
        ]
      : []),
    '',
    END,
  ].join('\n');
  writeFileSync(file, readme.slice(0, start) + block + readme.slice(end + END.length));
}

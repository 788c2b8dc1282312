import type { ActionResult, JobListPage, JobStats, JobView, UnrunJobNames } from '@app/background-jobs';
import { JOB_STATES, WORKER_HEARTBEAT_LIVE_MS } from '@app/background-jobs';
import { escapeControlCharacters } from '../config/log-escaping';

/**
 * How the commands print for a person: columns of plain text. Job data is written with control
 * characters escaped, so a job name or args cannot move the cursor or rewrite the terminal.
 * `--json` prints what the service returned, as JSON, instead.
 */
const safe = (text: string) => escapeControlCharacters(text);

export function statsText(stats: JobStats): string {
  const count = (value: number | null) =>
    value === null ? 'not kept' : `${stats.estimated && value > 0 ? '~' : ''}${value.toLocaleString('en-US')}`;
  const rows: string[][] = [['', ...JOB_STATES]];
  rows.push(['all jobs', ...JOB_STATES.map((s) => count(stats[s]))]);
  for (const [name, counts] of Object.entries(stats.byJobName))
    rows.push([safe(name), ...JOB_STATES.map((s) => count(counts[s]))]);
  const note = stats.estimated ? '\n~ an estimate: the table is too big to count every state exactly' : '';
  return columns(rows) + note;
}

/**
 * The due rows no live worker runs, after the stats: names JSON-quoted as the worker's log writes
 * them (a trailing space shows, control characters are escaped). Empty when there are none.
 */
export function unrunText(unrun: UnrunJobNames): string {
  if (unrun.liveWorkers === 0)
    return `\n\nNo worker has reported in the last ${Math.round(WORKER_HEARTBEAT_LIVE_MS / 1000)} s.`;
  if (unrun.jobNamesNoWorkerRuns.length === 0) return '';
  const rows = [['application', 'job name', 'due rows']];
  for (const { applicationName, jobName, count } of unrun.jobNamesNoWorkerRuns)
    rows.push([
      applicationName === null ? '(none)' : JSON.stringify(applicationName),
      JSON.stringify(jobName),
      count.toLocaleString('en-US'),
    ]);
  return `\n\nDue rows no live worker runs:\n${columns(rows)}`;
}

export function listText(page: JobListPage): string {
  if (page.items.length === 0) return 'No jobs.';
  const rows = [['id', 'job name', 'tries', 'next try', 'last try', 'args']];
  for (const job of page.items)
    rows.push([
      job.id,
      safe(job.jobName),
      String(job.tryCount),
      job.nextTryTime,
      job.lastTryTime ?? '-',
      oneLine(job.jobArgs, 60),
    ]);
  return columns(rows) + (page.next ? `\nmore: --after ${page.next}` : '');
}

export function jobText(job: JobView): string {
  const lines = [
    ['id', job.id],
    ['state', job.state],
    ['job name', safe(job.jobName)],
    ['application', job.applicationName === null ? '(none)' : safe(job.applicationName)],
    ['priority', String(job.priority)],
    ['tries', String(job.tryCount)],
    ['created', job.creationTime],
    ['next try', job.nextTryTime],
    ['last try', job.lastTryTime ?? '-'],
    ['completed', job.completionTime ?? '-'],
    ['abandoned', job.isAbandoned ? 'yes' : 'no'],
    ['stamp', safe(job.concurrencyStamp)],
  ];
  return `${columns(lines)}\nargs:\n${indent(pretty(job.jobArgs))}\nextra properties:\n${indent(pretty(job.extraProperties))}`;
}

export function actionText(verb: string, result: ActionResult): string {
  const lines = [`${verb} ${result.done.length} job(s)${result.done.length ? `: ${result.done.join(' ')}` : ''}`];
  if (result.held.length) lines.push(`held by a worker, left alone: ${result.held.map(safe).join(' ')}`);
  if (result.missing.length)
    lines.push(`not found or not in a state this applies to: ${result.missing.map(safe).join(' ')}`);
  return lines.join('\n');
}

/** JSON text indented when it parses, as it is otherwise; escaped either way. */
function pretty(text: string): string {
  try {
    return safe(JSON.stringify(JSON.parse(text), null, 2));
  } catch {
    return safe(text);
  }
}

function oneLine(text: string, length: number): string {
  const line = safe(text);
  return line.length > length ? `${line.slice(0, length - 3)}...` : line;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

function columns(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => [...(row[i] ?? '')].length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat(widths[i] - [...cell].length)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

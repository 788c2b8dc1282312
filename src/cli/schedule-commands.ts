import { Command } from 'commander';
import type { ScheduleView } from '@app/background-jobs';
import { escapeControlCharacters } from '../config/log-escaping';
import type { CliServices } from './cli-app';

/** What the schedule commands need of the program around them. */
export interface ScheduleCommandContext {
  out(text: string): void;
  withServices<T>(work: (services: CliServices) => Promise<T>): Promise<T>;
  parseArgs: (value: string) => object;
  parsePriority: (value: string) => number;
}

/**
 * `jobs schedule add|list|remove|pause|resume|trigger`: recurring jobs at run time, a thin front on
 * the RecurringJobs service (AbpBackgroundJobSchedules). Workers see a change within their poll
 * period (at least a second).
 */
export function addScheduleCommands(program: Command, ctx: ScheduleCommandContext): void {
  const schedule = program
    .command('schedule')
    .description('Recurring jobs: add, list, remove, pause, resume or trigger a schedule (cron, in a time zone).');

  schedule
    .command('add')
    .description(
      'Add a schedule, or change the one of this name (its first run is the first occurrence after now). Cron: 5 fields, or 6 with seconds first.',
    )
    .argument('<name>', "the schedule's name")
    .requiredOption('--cron <expr>', "e.g. '0 3 * * *' (03:00 daily) or '*/10 * * * * *' (every 10 s)")
    .requiredOption('--job <name>', 'the job name (e.g. MyReportJobArgs)')
    .option('--args <json>', 'the args as a JSON object', ctx.parseArgs, {})
    .option('--tz <zone>', 'an IANA time zone the cron is read in, e.g. Europe/Berlin (default UTC)')
    .option('--priority <n>', 'Low, BelowNormal, Normal, AboveNormal, High or 0 to 255', ctx.parsePriority)
    .action(
      async (name: string, options: { cron: string; job: string; args: object; tz?: string; priority?: number }) => {
        const outcome = await ctx.withServices((s) =>
          s.schedules.add(name, {
            cron: options.cron,
            jobName: options.job,
            args: options.args,
            timeZone: options.tz,
            priority: options.priority,
          }),
        );
        ctx.out(`Schedule ${safe(name)} ${outcome}`);
      },
    );

  schedule
    .command('list')
    .description("List this application's schedules: cron, job, paused, next and last run (UTC).")
    .option('--json', 'print the schedules as JSON')
    .action(async (options: { json?: boolean }) => {
      const schedules = await ctx.withServices((s) => s.schedules.list());
      ctx.out(options.json ? JSON.stringify(schedules) : schedulesText(schedules));
    });

  const byName = (command: string, description: string, act: (s: CliServices, name: string) => Promise<unknown>) =>
    schedule
      .command(command)
      .description(description)
      .argument('<name>', "the schedule's name")
      .action(async (name: string) => {
        const result = await ctx.withServices((s) => act(s, name));
        ctx.out(typeof result === 'string' ? result : `Schedule ${safe(name)} ${PAST[command]}`);
      });
  byName('remove', 'Remove a schedule added at run time (one declared by @RecurringJob cannot be).', (s, name) =>
    s.schedules.remove(name),
  );
  byName('pause', 'Stop enqueueing its occurrences (jobs already queued still run).', (s, name) =>
    s.schedules.pause(name),
  );
  byName('resume', 'Enqueue its occurrences again, from the next one on.', (s, name) => s.schedules.resume(name));
  byName('trigger', "Enqueue one run now, outside the cron; prints the job's id.", (s, name) =>
    s.schedules.trigger(name),
  );
}

const PAST: Record<string, string> = { remove: 'removed', pause: 'paused', resume: 'resumed' };

const safe = (text: string) => escapeControlCharacters(text);

function schedulesText(schedules: ScheduleView[]): string {
  if (schedules.length === 0) return 'No schedules.';
  const rows = [['name', 'cron', 'time zone', 'job name', 'state', 'next run', 'last run', 'args']];
  for (const s of schedules)
    rows.push([
      safe(s.name),
      safe(s.cron),
      s.timeZone ? safe(s.timeZone) : 'UTC',
      safe(s.jobName),
      `${s.paused ? 'paused' : 'active'}${s.source === 'code' ? ' (code)' : ''}`,
      s.nextRunTime ?? '-',
      s.lastRunTime ?? '-',
      safe(s.args),
    ]);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => [...row[i]].length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat(widths[i] - [...cell].length)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

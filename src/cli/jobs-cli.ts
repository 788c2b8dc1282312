import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { hostname, userInfo } from 'node:os';
import {
  Actor,
  ActionResult,
  AdminInputError,
  BackgroundJobPriority,
  JOB_STATES,
  JobState,
  JobArgsTooLargeError,
  UndefinedBackgroundJobError,
  CancelOutcome,
  InvalidScheduleError,
  ScheduleDeclaredInCodeError,
  ScheduleNotFoundError,
} from '@app/background-jobs';
import { CliServices } from './cli-app';
import { actionText, jobText, listText, statsText, unrunText } from './cli-output';
import { addScheduleCommands } from './schedule-commands';

/**
 * `npm run jobs -- <command>`: a thin front on BackgroundJobsAdmin and IBackgroundJobManager (no
 * SQL here). Exit codes: 0 done; 1 failed (the database, a job that is not there); 2 bad input;
 * 3 done in part (some ids held by a worker, or not found / not in a state the action applies to).
 */
export const EXIT = { ok: 0, failed: 1, badInput: 2, partly: 3 } as const;

/** A failure the command explains in one line, with its exit code. */
export class CliFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Opens the apps' services; only commands that got past their checks call it. */
  open(): Promise<CliServices>;
}

const STATES_HELP = JOB_STATES.join(', ');

export function buildProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  const program = new Command('jobs')
    .description(
      "See and steer the background jobs in the apps' database (ConnectionStrings__AbpBackgroundJobs and the other settings, from .env or the environment).",
    )
    .configureOutput({
      writeOut: (text) => io.out(text),
      writeErr: (text) => io.err(text),
      outputError: (text, write) => write(text),
    })
    .showSuggestionAfterError(true)
    .exitOverride();

  const withServices = async <T>(work: (services: CliServices) => Promise<T>): Promise<T> => {
    const services = await io.open();
    try {
      return await work(services);
    } finally {
      await services.close();
    }
  };
  const actor = (): Actor => ({ name: `cli:${safeUser()}@${hostname()}` });
  const report = (verb: string, result: ActionResult, json: boolean) => {
    io.out(json ? JSON.stringify(result) : actionText(verb, result));
    if (result.held.length || result.missing.length) setExitCode(EXIT.partly);
  };

  program
    .command('stats')
    .description(
      'Count the jobs in each state, in all and per job name (~ marks an estimate on big tables), and the due jobs whose job name no live worker runs.',
    )
    .option('--json', 'print the counts as JSON')
    .action(async (options: { json?: boolean }) => {
      const [stats, unrun] = await withServices((s) => Promise.all([s.admin.stats(), s.admin.unrunJobNames()]));
      io.out(options.json ? JSON.stringify({ ...stats, ...unrun }) : statsText(stats) + unrunText(unrun));
    });

  program
    .command('list')
    .description(
      'List the jobs in one state: next due first (waiting, scheduled, retrying, processing) or newest first.',
    )
    .addOption(new Option('--state <state>', `one of ${STATES_HELP}`).choices(JOB_STATES).makeOptionMandatory())
    .option('--job <name>', 'only jobs of this job name')
    .option('--app <name>', 'only jobs of this ApplicationName')
    .option('--limit <n>', 'jobs per page, 1 to 500', positiveInteger, 50)
    .option('--after <cursor>', 'the page after this one (the cursor the previous page printed)')
    .option('--json', 'print the page as JSON: { items, next }')
    .action(
      async (options: {
        state: JobState;
        job?: string;
        app?: string;
        limit: number;
        after?: string;
        json?: boolean;
      }) => {
        const page = await withServices((s) =>
          s.admin.list({
            state: options.state,
            jobName: options.job,
            applicationName: options.app,
            limit: options.limit,
            after: options.after,
          }),
        );
        io.out(options.json ? JSON.stringify(page) : listText(page));
      },
    );

  program
    .command('show')
    .description('Show one job: every column, its args and ExtraProperties (the last error) as indented JSON.')
    .argument('<id>', "the job's id")
    .option('--json', 'print the job as JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      const job = await withServices((s) => s.admin.get(id));
      if (!job) throw new CliFailure(`No job with id ${JSON.stringify(id)}`, EXIT.failed);
      io.out(options.json ? JSON.stringify(job) : jobText(job));
    });

  const selection = (command: string, ids: string[], options: { state?: string; job?: string }) => {
    if (options.job !== undefined && options.state === undefined)
      throw new CliFailure(`${command}: --job needs --state`, EXIT.badInput);
    if (ids.length > 0 && options.state !== undefined)
      throw new CliFailure(`${command}: give ids or --state, not both`, EXIT.badInput);
    if (ids.length === 0 && options.state === undefined)
      throw new CliFailure(
        `${command}: give the ids of the jobs, or --state (with --job to keep to one job name)`,
        EXIT.badInput,
      );
  };

  program
    .command('requeue')
    .description(
      'Run abandoned or retrying jobs again from a fresh start: due now, no tries; the last error is kept in ExtraProperties.ErrorHistory.',
    )
    .argument('[ids...]', 'the jobs to requeue')
    .addOption(
      new Option('--state <state>', 'every job in this state instead of ids').choices(['abandoned', 'retrying']),
    )
    .option('--job <name>', 'with --state: only jobs of this job name')
    .option('--json', 'print what was done as JSON: { done, held, missing }')
    .action(async (ids: string[], options: { state?: JobState; job?: string; json?: boolean }) => {
      selection('requeue', ids, options);
      const result = await withServices((s) =>
        options.state
          ? s.admin.requeueWhere({ state: options.state, jobName: options.job }, actor())
          : s.admin.requeue(ids, actor()),
      );
      report('Requeued', result, options.json === true);
    });

  program
    .command('run-now')
    .description('Make scheduled jobs due now.')
    .argument('<ids...>', 'the jobs to run now')
    .option('--json', 'print what was done as JSON: { done, held, missing }')
    .action(async (ids: string[], options: { json?: boolean }) => {
      const result = await withServices((s) => s.admin.runNow(ids, actor()));
      report('Made due now', result, options.json === true);
    });

  program
    .command('delete')
    .description('Delete jobs (never one a worker is running).')
    .argument('[ids...]', 'the jobs to delete')
    .addOption(
      new Option('--state <state>', 'every job in this state instead of ids').choices(
        JOB_STATES.filter((s) => s !== 'processing'),
      ),
    )
    .option('--job <name>', 'with --state: only jobs of this job name')
    .option('--json', 'print what was done as JSON: { done, held, missing }')
    .action(async (ids: string[], options: { state?: JobState; job?: string; json?: boolean }) => {
      selection('delete', ids, options);
      const result = await withServices((s) =>
        options.state
          ? s.admin.deleteWhere({ state: options.state, jobName: options.job }, actor())
          : s.admin.delete(ids, actor()),
      );
      report('Deleted', result, options.json === true);
    });

  program
    .command('enqueue')
    .description('Enqueue a job of a job name the apps register, with JSON args; prints its id.')
    .requiredOption('--job <name>', 'the job name (e.g. MyReportJobArgs)')
    .requiredOption('--args <json>', 'the args as a JSON object, e.g. \'{"content":"hello"}\'', jsonObject)
    .option(
      '--priority <n>',
      'Low, BelowNormal, Normal, AboveNormal, High or a number from 0 to 255 (default Normal, 15)',
      priority,
    )
    .option('--delay <ms>', 'milliseconds before the job is due', nonNegativeInteger)
    .option(
      '--unique-key <key>',
      'at most one unfinished job of this job name and key: the id comes from them, an existing job is kept',
    )
    .addOption(
      new Option(
        '--on-conflict <mode>',
        'with --unique-key: keep the waiting job, or replace its args, priority and delay',
      )
        .choices(['keep', 'replace'])
        .default('keep'),
    )
    .action(
      async (options: {
        job: string;
        args: object;
        priority?: number;
        delay?: number;
        uniqueKey?: string;
        onConflict: 'keep' | 'replace';
      }) => {
        const { job, args, priority, delay, uniqueKey, onConflict } = options;
        if (uniqueKey === undefined) {
          io.out(await withServices((s) => s.jobs.enqueueByName(job, args, { priority, delay })));
          return;
        }
        const result = await withServices((s) =>
          s.jobs.enqueueUnique({ jobName: job, args, priority, delay, uniqueKey, onConflict }),
        );
        io.out(result.id);
        // The id on stdout as for any enqueue; what became of an existing job on stderr.
        if (result.outcome !== 'enqueued') io.err(`${UNIQUE_OUTCOMES[result.outcome]}\n`);
      },
    );

  program
    .command('cancel')
    .description(
      'Cancel a job: a waiting one is abandoned at once; a running one is aborted by its worker within about a second. Either way LastError is "cancelled".',
    )
    .argument('<id>', "the job's id")
    .action(async (id: string) => {
      const outcome = await withServices((s) => s.jobs.cancel(id, { by: actor().name }));
      io.out(CANCEL_OUTCOMES[outcome]);
      if (outcome === 'not-found') throw new CliFailure(`No job with id ${JSON.stringify(id)}`, EXIT.failed);
      if (outcome === 'finished') setExitCode(EXIT.partly);
    });

  addScheduleCommands(program, {
    out: (text) => io.out(text),
    withServices,
    parseArgs: jsonObject,
    parsePriority: priority,
  });

  return program;
}

const UNIQUE_OUTCOMES = {
  kept: 'kept: a job with this unique key is waiting or running already',
  replaced: 'replaced: the waiting job with this unique key has the new args, priority and due time',
  running: 'left alone: the job with this unique key is running; the new args were not queued',
} as const;

const CANCEL_OUTCOMES: Record<CancelOutcome, string> = {
  cancelled: 'Cancelled: the job was waiting and will not run',
  cancelling: 'Cancelling: its worker aborts it within about a second (a job that finishes first keeps its outcome)',
  finished: 'Not cancelled: the job had finished (abandoned or completed)',
  'not-found': 'Not cancelled: no such job (a succeeded job is deleted)',
};

/** Runs one command line; returns its exit code. Every failure is one line on stderr. */
export async function runJobsCli(argv: string[], io: CliIo): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram(io, (code) => (exitCode = code));
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return EXIT.badInput;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError)
      return error.exitCode === 0 || error.code === 'commander.helpDisplayed' ? EXIT.ok : EXIT.badInput;
    const [message, code] = failure(error);
    io.err(`error: ${message}\n`);
    return code;
  }
}

function failure(error: unknown): [string, number] {
  if (error instanceof CliFailure) return [error.message, error.exitCode];
  if (error instanceof AdminInputError) return [error.message, EXIT.badInput];
  if (
    error instanceof UndefinedBackgroundJobError ||
    error instanceof JobArgsTooLargeError ||
    error instanceof RangeError ||
    error instanceof InvalidScheduleError ||
    error instanceof ScheduleDeclaredInCodeError
  )
    return [error.message, EXIT.badInput];
  if (error instanceof ScheduleNotFoundError) return [error.message, EXIT.failed];
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  // A socket error (ECONNREFUSED, ENOTFOUND, ETIMEDOUT...) at start: the settings point nowhere reachable.
  const code = (error as { code?: unknown })?.code;
  return [
    typeof code === 'string' && /^E[A-Z]+$/.test(code) ? `cannot reach the database: ${message}` : message,
    EXIT.failed,
  ];
}

function positiveInteger(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('a whole number from 1');
  return Number(value);
}

function nonNegativeInteger(value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value)))
    throw new InvalidArgumentError('a whole number of milliseconds, 0 or more');
  return Number(value);
}

function priority(value: string): number {
  const named = (BackgroundJobPriority as unknown as Record<string, number>)[value];
  if (typeof named === 'number') return named;
  if (/^\d+$/.test(value) && Number(value) <= 255) return Number(value);
  throw new InvalidArgumentError('Low, BelowNormal, Normal, AboveNormal, High or a whole number from 0 to 255');
}

function jsonObject(value: string): object {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw new InvalidArgumentError(`not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new InvalidArgumentError('the args are a JSON object, e.g. {"content":"hello"}');
  return parsed;
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid${process.getuid?.() ?? '?'}`;
  }
}

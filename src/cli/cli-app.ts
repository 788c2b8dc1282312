import { ConsoleLogger, LogLevel, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BackgroundJobsAdmin, IBackgroundJobManager, RecurringJobs } from '@app/background-jobs';
import { AppCoreModule } from '../config/app-core.module';
import { escapeControlCharacters } from '../config/log-escaping';

/** What the commands use: the management service and the job manager, nothing of the database. */
export interface CliServices {
  admin: BackgroundJobsAdmin;
  jobs: IBackgroundJobManager;
  schedules: RecurringJobs;
  close(): Promise<void>;
}

/**
 * The apps' core (settings from `.env` and the environment, the database, the background-jobs
 * module and the shared jobs) without a worker, as `npm run migrate` opens it. Log lines go to
 * stderr, so stdout holds only the command's answer: warnings, errors, and the management
 * service's one line per action (who, what, which ids).
 */
export async function openCliServices(): Promise<CliServices> {
  @Module({ imports: [AppCoreModule.register({ isJobExecutionEnabled: false, connectAttempts: 0 })] })
  class CliModule {}
  const app = await NestFactory.createApplicationContext(CliModule, { logger: new CliLogger(), abortOnError: false });
  return {
    admin: app.get(BackgroundJobsAdmin),
    jobs: app.get<IBackgroundJobManager>(IBackgroundJobManager),
    schedules: app.get(RecurringJobs),
    close: () => app.close(),
  };
}

const ACTION_CONTEXT = 'BackgroundJobsAdmin';

/**
 * Warnings and errors, and the action lines; on stderr, control characters escaped. Start-up
 * failures are left to the command, which prints them as its one line (TypeORM would add its own).
 */
const QUIET_CONTEXTS = new Set(['TypeOrmModule', 'ExceptionHandler']);

class CliLogger extends ConsoleLogger {
  constructor() {
    super('jobs', { logLevels: ['log', 'warn', 'error', 'fatal'] as LogLevel[] });
  }

  override log(message: unknown, context?: string): void {
    if (context === ACTION_CONTEXT) process.stderr.write(`${escapeControlCharacters(String(message))}\n`);
  }

  /** The command prints the error's message; the stack only with DEBUG_STARTUP, as the apps do. */
  protected override printStackTrace(stack: string): void {
    if (process.env.DEBUG_STARTUP) process.stderr.write(`${stack}\n`);
  }

  protected override printMessages(messages: unknown[], context = '', logLevel: LogLevel = 'log'): void {
    if (QUIET_CONTEXTS.has(context)) return;
    for (const message of messages)
      process.stderr.write(
        `${logLevel}${context ? ` [${context}]` : ''}: ${escapeControlCharacters(String(message))}\n`,
      );
  }
}

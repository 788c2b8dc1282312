import { ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { StopWaiting, waitFor } from './wait-for';

/** The build under test; `npm run build` must have run (under /tmp/dist.lock). */
export const DIST_DIR = resolve(__dirname, '../../../dist');

export type AppKind = 'web' | 'worker';

/** One pino JSON line; `msg` is what the app logged. */
export interface LogLine {
  msg?: string;
  context?: string;
  level?: number;
  [key: string]: unknown;
}

// Settings in the runner's own environment (or a developer's shell) must not leak into a child.
const SETTING = /^(ConnectionStrings__|DatabaseProvider$|Database__|AbpBackgroundJobWorker__|PORT$|Web__|Logging__)/;

/**
 * A real `node dist/main.<kind>.js` child: its stdout kept line by line (parsed as pino JSON),
 * its stderr as text, and its exit code once it ends.
 */
export class AppProcess {
  readonly logs: LogLine[] = [];
  readonly rawStdout: string[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined;
  private readonly child: ChildProcess;

  constructor(
    readonly kind: AppKind,
    env: Record<string, string>,
    cwd?: string,
  ) {
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !SETTING.test(key)));
    this.child = spawn(process.execPath, [resolve(DIST_DIR, `main.${kind}.js`)], {
      cwd: cwd ?? resolve(DIST_DIR, '..'),
      env: { ...inherited, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.rawStdout.push(line);
      try {
        this.logs.push(JSON.parse(line) as LogLine);
      } catch {
        // Not pino JSON (a library printing on its own); kept in rawStdout for failure messages.
      }
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolveExit) => {
      // 'close', not 'exit': by then stdout and stderr are read to the end.
      this.child.on('close', (code, signal) => {
        this.exitCode = code ?? (signal ? -1 : null);
        resolveExit(this.exitCode);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  messages(): string[] {
    return this.logs.map((line) => line.msg ?? '');
  }

  /** Waits for a log line; fails at once, with the app's output, if the app exits first. */
  waitForLog(match: string | RegExp, timeoutMs = 15_000): Promise<LogLine> {
    const test = (msg: string) => (typeof match === 'string' ? msg.includes(match) : match.test(msg));
    return waitFor(`${this.kind} to log ${match}`, () => {
      this.assertRunning();
      return this.logs.find((line) => test(line.msg ?? ''));
    }, timeoutMs);
  }

  assertRunning(): void {
    if (!this.running) throw new StopWaiting(`${this.kind} exited with code ${this.exitCode}\n${this.output()}`);
  }

  /** What the app printed, for failure messages. */
  output(): string {
    return `--- ${this.kind} stdout ---\n${this.rawStdout.slice(-40).join('\n')}\n--- ${this.kind} stderr ---\n${this.stderr}`;
  }

  /** SIGTERM, as a service manager stops it; resolves with the exit code (SIGKILL and -1 past the deadline). */
  async stop(timeoutMs = 30_000): Promise<number | null> {
    if (!this.running) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

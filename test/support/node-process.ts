import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StopWaiting } from './wait-for';

/**
 * A child `node <script>` for the e2e and scale tests and the bench (plain Node, no jest: the bench
 * imports it from dist/). Its stdout is read line by line and its stderr kept; it counts as exited
 * on 'close', once both pipes are read to the end, so every line it wrote is there by then.
 */

/** One JSON line a process wrote: pino's log lines and the scale fixture's execution records. */
export interface LogLine {
  /** What was logged; '' when the line had no `msg`. */
  msg: string;
  level?: number;
  /** Milliseconds since the epoch, as pino and the fixture write it. */
  time?: number;
  context?: string;
  jobId?: string;
  jobName?: string;
  tryCount?: number;
  pid?: number;
  args?: Record<string, unknown>;
  [key: string]: unknown;
}

/** A line to look for: a substring of `msg`, a pattern for `msg`, or any test of the whole line. */
export type LineMatch = string | RegExp | ((line: LogLine) => boolean);

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface NodeProcessOptions {
  /** For messages: "web", "worker 3", "pg-boss consumer". */
  name: string;
  script: string;
  args?: string[];
  /** Node options before the script (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** Added to this process's environment, from which every setting of the apps is removed first. */
  env?: Record<string, string>;
  /** Default: a new empty folder (so no `.env` applies), removed once the process has closed. */
  cwd?: string;
  /** Open an IPC channel (the bench's peer consumers report `ready` through it). */
  ipc?: boolean;
  /**
   * Keep every stdout line (`lines`, `rawStdout`); default true. The bench turns it off: its
   * consumers write one line per job, which it only counts through `watch`.
   */
  keepOutput?: boolean;
}

// Settings in the runner's own environment (or a developer's shell) must not reach a child.
const APP_SETTING =
  /^(ConnectionStrings__|DatabaseProvider$|Database__|AbpBackgroundJobWorker__|Dashboard__|Logging__|Web__|PORT$|DATABASE_URL$)/;
const STDERR_KEPT = 1_000_000;

export class NodeProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** stdout lines that are JSON objects, parsed, in order. */
  readonly lines: LogLine[] = [];
  /** Every stdout line as written. */
  readonly rawStdout: string[] = [];
  /** What it wrote on stderr (the last megabyte). */
  stderr = '';
  /** Resolves on 'close': the process has ended and its output is read to the end. */
  readonly closed: Promise<Exit>;
  private exit?: Exit;
  private carry = '';
  private readonly watchers = new Set<(line: string) => void>();
  private readonly keepOutput: boolean;

  constructor(options: NodeProcessOptions) {
    this.name = options.name;
    this.keepOutput = options.keepOutput ?? true;
    const tempCwd = options.cwd === undefined ? mkdtempSync(join(tmpdir(), 'bj-process-')) : undefined;
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !APP_SETTING.test(key)));
    this.child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.script, ...(options.args ?? [])], {
      cwd: options.cwd ?? tempCwd,
      env: { ...inherited, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe', ...(options.ipc ? ['ipc' as const] : [])],
    });
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => this.onStdout(chunk));
    this.child.stdout!.on('end', () => {
      // A last line without a newline still counts.
      if (this.carry) this.onLine(this.carry);
    });
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (chunk: string) => (this.stderr = (this.stderr + chunk).slice(-STDERR_KEPT)));
    this.closed = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        if (tempCwd) rmSync(tempCwd, { recursive: true, force: true });
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** True until 'close'. */
  get running(): boolean {
    return this.exit === undefined;
  }

  /** Calls `watcher` with each stdout line from now on; returns the function that stops it. */
  watch(watcher: (line: string) => void): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  hasLine(match: LineMatch): boolean {
    return this.lines.some(matcher(match));
  }

  linesMatching(match: LineMatch): LogLine[] {
    return this.lines.filter(matcher(match));
  }

  messages(): string[] {
    return this.lines.map((line) => line.msg);
  }

  /**
   * Resolves with the first line that matches, written already or from now on. Fails after
   * `timeoutMs`, or as soon as the process closes without having written one.
   */
  waitForLog(match: LineMatch, timeoutMs = 15_000): Promise<LogLine> {
    const test = matcher(match);
    const seen = this.lines.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          done(
            new Error(
              `Timed out after ${timeoutMs} ms waiting for ${this.name} to log ${String(match)}\n${this.output()}`,
            ),
          ),
        timeoutMs,
      );
      const unwatch = this.watch((raw) => {
        const line = parseLine(raw);
        if (line && test(line)) done(undefined, line);
      });
      void this.closed.then((exit) =>
        done(
          new Error(`${this.name} closed (${describeExit(exit)}) before logging ${String(match)}\n${this.output()}`),
        ),
      );
      const done = (error?: Error, line?: LogLine) => {
        clearTimeout(timer);
        unwatch();
        if (line) resolve(line);
        else reject(error!);
      };
    });
  }

  /** For `waitFor` checks: ends the wait at once, with the output, when the process has closed. */
  assertRunning(): void {
    if (!this.running) throw new StopWaiting(`${this.name} closed (${describeExit(this.exit!)})\n${this.output()}`);
  }

  /** The last stdout lines and the stderr, for failure messages. */
  output(): string {
    return `--- ${this.name} stdout ---\n${this.rawStdout.slice(-40).join('\n')}\n--- ${this.name} stderr ---\n${this.stderr}`;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** Sends `signal` (unless it has closed already) and resolves once it closes; SIGKILL past `timeoutMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<Exit> {
    this.kill(signal);
    const timer = setTimeout(() => this.kill('SIGKILL'), timeoutMs);
    try {
      return await this.closed;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves once it closes by itself; past `timeoutMs` it is killed and this fails. */
  async closedWithin(timeoutMs: number): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.kill('SIGKILL');
        reject(new Error(`${this.name} did not close within ${timeoutMs} ms\n${this.output()}`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.closed, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private onStdout(chunk: string): void {
    const text = this.carry + chunk;
    let start = 0;
    let end: number;
    while ((end = text.indexOf('\n', start)) >= 0) {
      this.onLine(text.slice(start, end));
      start = end + 1;
    }
    this.carry = text.slice(start);
  }

  private onLine(raw: string): void {
    if (this.keepOutput) {
      this.rawStdout.push(raw);
      const line = parseLine(raw);
      if (line) this.lines.push(line);
    }
    for (const watcher of this.watchers) watcher(raw);
  }
}

function matcher(match: LineMatch): (line: LogLine) => boolean {
  if (typeof match === 'function') return match;
  if (typeof match === 'string') return (line) => line.msg.includes(match);
  return (line) => match.test(line.msg);
}

function parseLine(raw: string): LogLine | undefined {
  if (!raw.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(raw) as Record<string, unknown>;
    return { ...parsed, msg: typeof parsed.msg === 'string' ? parsed.msg : '' };
  } catch {
    return undefined;
  }
}

function describeExit(exit: Exit): string {
  return exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
}

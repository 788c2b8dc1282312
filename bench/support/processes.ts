import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { onCleanup } from './cleanup';
import { REPO } from './paths';

/** The marker every job's log line carries, ours and the peers' alike. */
export const JOB_LINE_MARKER = 'Executing MyReportJob with args: ';

export interface StartOptions {
  name: string;
  script: string;
  args?: string[];
  env?: Record<string, string>;
  /** Node options before the script (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** Open an IPC channel (the peer consumers report `ready` through it). */
  ipc?: boolean;
}

/**
 * A child node process whose stdout is read line by line (the pipe is always drained, so a
 * logging child never blocks on it). Counts the job log lines; other readers can watch lines.
 */
export class BenchProcess {
  readonly child: ChildProcess;
  jobLines = 0;
  private readonly watchers = new Set<(line: string) => void>();
  private carry = '';
  private stderrTail = '';
  private exited = false;
  readonly exit: Promise<number | null>;
  private readonly forget: () => Promise<void>;

  constructor(readonly options: StartOptions) {
    this.child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.script, ...(options.args ?? [])], {
      cwd: REPO,
      env: { ...cleanEnv(), ...options.env },
      stdio: ['ignore', 'pipe', 'pipe', ...(options.ipc ? ['ipc' as const] : [])],
    });
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => this.onStdout(chunk));
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (chunk: string) => (this.stderrTail = (this.stderrTail + chunk).slice(-4000)));
    this.exit = new Promise((resolve) => this.child.once('exit', (code) => ((this.exited = true), resolve(code))));
    this.forget = onCleanup(`stop ${options.name}`, () => this.kill());
  }

  get pid(): number {
    return this.child.pid!;
  }

  get stderr(): string {
    return this.stderrTail;
  }

  watch(watcher: (line: string) => void): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  /** Resolves with the first line `test` accepts; rejects if the process exits or time runs out. */
  waitForLine(test: (line: string) => boolean, timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`${this.options.name}: no expected line within ${timeoutMs} ms. stderr: ${this.stderrTail}`)), timeoutMs);
      const unwatch = this.watch((line) => test(line) && done(undefined, line));
      const onExit = (code: number | null) => done(new Error(`${this.options.name} exited (${code}) while starting. stderr: ${this.stderrTail}`));
      this.child.once('exit', onExit);
      const done = (error?: Error, line?: string) => {
        clearTimeout(timer);
        unwatch();
        this.child.off('exit', onExit);
        if (error) reject(error);
        else resolve(line!);
      };
    });
  }

  /** Peak resident set size so far (VmHWM), in MiB. */
  peakRssMiB(): number | undefined {
    try {
      const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
      return match ? Math.round(Number(match[1]) / 1024) : undefined;
    } catch {
      return undefined;
    }
  }

  /** SIGTERM (a clean stop), then SIGKILL after 8 s. */
  async stop(): Promise<void> {
    await this.forget();
  }

  private async kill(graceMs = 8000): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exit;
    clearTimeout(timer);
  }

  private onStdout(chunk: string): void {
    const text = this.carry + chunk;
    let start = 0;
    let end: number;
    while ((end = text.indexOf('\n', start)) >= 0) {
      const line = text.slice(start, end);
      if (line.includes(JOB_LINE_MARKER)) this.jobLines++;
      for (const watcher of this.watchers) watcher(line);
      start = end + 1;
    }
    this.carry = text.slice(start);
  }
}

/** This process's environment without any setting of the apps, so only what we pass counts. */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || /^(ConnectionStrings__|DatabaseProvider|Database__|AbpBackgroundJobWorker__|Logging__|Web__|PORT$|DATABASE_URL$)/.test(key)) continue;
    env[key] = value;
  }
  return env;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every `everyMs` until it is true; false on timeout. */
export async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(everyMs);
  }
  return false;
}

/** Milliseconds on the shared machine clock, sub-millisecond. */
export function clockMs(): number {
  return performance.timeOrigin + performance.now();
}

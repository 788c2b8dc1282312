import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { waitFor } from './wait';

const FIXTURE = resolve(__dirname, '../../fixtures/fixture-worker.js');

/** One JSON line a worker wrote: pino's log lines (`msg`, `level`) and the fixture's execution records. */
export interface LogLine {
  msg: string;
  level?: number;
  jobId?: string;
  jobName?: string;
  tryCount?: number;
  pid?: number;
  args?: Record<string, unknown>;
  time?: number;
  [key: string]: unknown;
}

/** Settings as the worker reads them, without the `AbpBackgroundJobWorker__` prefix. */
export type WorkerSettings = Record<string, string | number>;

/**
 * A fixture worker (test/fixtures/fixture-worker.js on dist/) as a child process, with every
 * stdout line kept in order. Its cwd is an empty directory, so no `.env` can change its settings.
 */
export class WorkerProcess {
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private partial = '';

  constructor(connectionString: string, settings: WorkerSettings = {}) {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      ConnectionStrings__AbpBackgroundJobs: connectionString,
      Logging__Format: 'json',
      Logging__Level: 'info',
    };
    for (const [key, value] of Object.entries(settings)) env[`AbpBackgroundJobWorker__${key}`] = String(value);
    this.child = spawn(process.execPath, [FIXTURE], { cwd: mkdtempSync(join(tmpdir(), 'bj-worker-')), env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => this.onStdout(chunk));
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => this.stderr.push(chunk));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get isRunning(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves once the worker has started polling. */
  async ready(timeoutMs = 20_000): Promise<this> {
    await waitFor(`worker ${this.pid} to start`, () => this.hasLine((l) => l.msg.startsWith('Worker started')) || this.failedToStart(), timeoutMs);
    // A worker may start and die at once (a job that kills it); only one that never started failed.
    if (!this.hasLine((l) => l.msg.startsWith('Worker started'))) throw new Error(`worker ${this.pid} exited at start: ${this.stderr.join('')}`);
    return this;
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Sends `signal` and waits for the process to end. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.isRunning) this.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`worker ${this.pid} did not exit within ${timeoutMs} ms of ${signal}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  hasLine(match: (line: LogLine) => boolean): boolean {
    return this.lines.some(match);
  }

  linesMatching(match: (line: LogLine) => boolean): LogLine[] {
    return this.lines.filter(match);
  }

  private failedToStart(): boolean {
    return !this.isRunning;
  }

  private onStdout(chunk: string): void {
    const text = this.partial + chunk;
    const parts = text.split('\n');
    this.partial = parts.pop()!;
    for (const part of parts) {
      if (!part.trim()) continue;
      try {
        this.lines.push(JSON.parse(part) as LogLine);
      } catch {
        this.stderr.push(`[stdout] ${part}\n`);
      }
    }
  }
}

/** Starts `count` workers and waits until all of them poll. */
export async function startWorkers(count: number, connectionString: string, settings: WorkerSettings = {}): Promise<WorkerProcess[]> {
  const workers = Array.from({ length: count }, () => new WorkerProcess(connectionString, settings));
  await Promise.all(workers.map((w) => w.ready()));
  return workers;
}

/** Stops every worker still running (afterEach): SIGKILL, since a test that failed may have left them stuck. */
export async function killAll(workers: WorkerProcess[]): Promise<void> {
  await Promise.all(workers.filter((w) => w.isRunning).map((w) => w.stop('SIGKILL', 10_000)));
}

/** How many times each job id started, across all workers. */
export function executionsById(workers: WorkerProcess[], msg = 'fixture-started'): Map<string, number> {
  const counts = new Map<string, number>();
  for (const w of workers) for (const l of w.lines) if (l.msg === msg && l.jobId) counts.set(l.jobId, (counts.get(l.jobId) ?? 0) + 1);
  return counts;
}

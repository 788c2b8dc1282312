import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { DynamicModule, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  BACKGROUND_JOB_STORE,
  BackgroundJobRecord,
  BackgroundJobsAdmin,
  BackgroundJobsModule,
  BackgroundJobStore,
  JOB_STATES,
  JobState,
  parseConnectionString,
} from '@app/background-jobs';
import { CommonSharedModule } from '@app/common-shared';
import { onCleanup } from './support/cleanup';
import { createDatabase, withClient } from './support/postgres';
import { clockMs, startBenchProcess, stopBenchProcess } from './support/processes';
import { REPO, WORKER_ENTRY } from './support/paths';

/**
 * `BENCH_ONLY=dashboard npm run bench`: how fast the management service (BackgroundJobsAdmin, what
 * the dashboard, its JSON API and the CLI call) answers on a big table while a worker burns it
 * down. 1,000,000 rows in PostgreSQL and 200,000 in SQLite (BENCH_DASHBOARD_ROWS=pg,sqlite to
 * change), in every state; the worker runs the waiting ones (half of the rows) while this process
 * calls stats(), list() of each state (first and a later page) and get() one after another, as one
 * operator refreshing pages would. Targets (issue #12): p95 <= 200 ms for stats, <= 100 ms for a
 * list page and a job.
 */
const RESULTS_FILE = resolve(REPO, 'bench', 'results', 'dashboard-latest.json');
const INSERT_BATCH = 5_000;
const MEASURE_MS = Number(process.env.BENCH_DASHBOARD_SECONDS ?? 20) * 1000;
const OTHER_NAMES = ['InvoiceJobArgs', 'EmailJobArgs', 'ReportExportArgs', 'ThumbnailJobArgs'];

@Module({})
class DashboardBenchModule {
  static register(connectionString: string): DynamicModule {
    return {
      module: DashboardBenchModule,
      imports: [
        TypeOrmModule.forRoot(parseConnectionString(connectionString).typeorm),
        BackgroundJobsModule.forRoot({ isJobExecutionEnabled: false, autoMigrate: true }),
        CommonSharedModule,
      ],
    };
  }
}

export interface DashboardResult {
  store: 'PostgreSQL' | 'SQLite';
  rows: number;
  loadSeconds: number;
  /** Jobs the worker ran while the calls were measured. */
  burnedDown: number;
  calls: Record<'stats' | 'list' | 'get', { count: number; p50Ms: number; p95Ms: number; maxMs: number }>;
  estimated: boolean;
  /** Once the worker has stopped: each state's count from stats() against an exact count, off by this share at most. */
  largestEstimateError: number;
}

export async function runDashboardBench(log: (message: string) => void): Promise<DashboardResult[]> {
  const [pgRows, sqliteRows] = (process.env.BENCH_DASHBOARD_ROWS ?? '1000000,200000').split(',').map(Number);
  const results: DashboardResult[] = [];
  if (pgRows > 0) {
    const database = await createDatabase('dashboard');
    try {
      results.push(await measureOn('PostgreSQL', database.url, pgRows, log));
    } finally {
      await database.drop();
    }
  }
  if (sqliteRows > 0) {
    const dir = mkdtempSync(join(tmpdir(), 'bj-dashboard-'));
    const remove = onCleanup(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
    try {
      results.push(await measureOn('SQLite', `Data Source=${join(dir, 'jobs.db')}`, sqliteRows, log));
    } finally {
      await remove();
    }
  }
  process.stdout.write(`\nDashboard: the management service's answers while a worker burns down\n${table(results)}\n`);
  mkdirSync(dirname(RESULTS_FILE), { recursive: true });
  writeFileSync(
    RESULTS_FILE,
    `${JSON.stringify({ at: new Date().toISOString(), node: process.version, results }, null, 2)}\n`,
  );
  process.stdout.write(`written to ${RESULTS_FILE}\n`);
  return results;
}

async function measureOn(
  store: DashboardResult['store'],
  connectionString: string,
  rows: number,
  log: (message: string) => void,
): Promise<DashboardResult> {
  const app = await NestFactory.createApplicationContext(DashboardBenchModule.register(connectionString), {
    logger: ['error', 'warn'],
  });
  const close = onCleanup('close dashboard bench app', () => app.close());
  try {
    const jobStore = app.get<BackgroundJobStore>(BACKGROUND_JOB_STORE);
    const admin = app.get(BackgroundJobsAdmin);
    log(`dashboard (${store}): loading ${rows.toLocaleString('en-US')} rows`);
    const loadStarted = clockMs();
    const sampleIds = await load(jobStore, rows);
    if (store === 'PostgreSQL')
      await withClient(connectionString, (c) => c.query('VACUUM ANALYZE "AbpBackgroundJobs"'));
    const loadSeconds = (clockMs() - loadStarted) / 1000;
    log(`dashboard (${store}): loaded in ${loadSeconds.toFixed(1)} s; starting a worker`);

    const worker = startBenchProcess({
      name: 'dashboard worker',
      script: WORKER_ENTRY,
      env: {
        ConnectionStrings__AbpBackgroundJobs: connectionString,
        Logging__Format: 'json',
        AbpBackgroundJobWorker__MaxParallelJobExecutionCount: '24',
        AbpBackgroundJobWorker__JobPollPeriod: '500',
      },
    });
    let burnedDown = 0;
    worker.watch((line) => {
      if (line.includes('Executing MyReportJob')) burnedDown++;
    });
    await worker.waitForLog('Worker started on', 30_000);

    const timings: Record<'stats' | 'list' | 'get', number[]> = { stats: [], list: [], get: [] };
    const timed = async <T>(kind: keyof typeof timings, call: () => Promise<T>): Promise<T> => {
      const started = clockMs();
      const result = await call();
      timings[kind].push(clockMs() - started);
      return result;
    };
    let estimated = false;
    const until = clockMs() + MEASURE_MS;
    for (let round = 0; clockMs() < until; round++) {
      estimated = (await timed('stats', () => admin.stats())).estimated || estimated;
      for (const state of JOB_STATES) {
        const first = await timed('list', () => admin.list({ state }));
        if (first.next) await timed('list', () => admin.list({ state, after: first.next! }));
      }
      for (let i = 0; i < 5; i++) await timed('get', () => admin.get(sampleIds[(round * 5 + i) % sampleIds.length]));
    }
    await stopBenchProcess(worker);
    const largestEstimateError = await estimateError(admin, jobStore);
    const calls = Object.fromEntries(
      Object.entries(timings).map(([kind, ms]) => [kind, summary(ms)]),
    ) as DashboardResult['calls'];
    log(`dashboard (${store}): ${JSON.stringify(calls)}`);
    return { store, rows, loadSeconds, burnedDown, calls, estimated, largestEstimateError };
  } finally {
    await close();
  }
}

/**
 * The table, in a mix of states: half waiting (MyReportJobArgs, which the worker runs), the rest
 * scheduled, retrying, abandoned, succeeded and a few processing (held by a lease for an hour),
 * over five job names. Returns ids to get(), one of each state and then every 1,000th row.
 */
async function load(store: BackgroundJobStore, total: number): Promise<string[]> {
  const now = Date.now();
  const mix: Array<[JobState, number]> = [
    ['waiting', 0.5],
    ['scheduled', 0.2],
    ['retrying', 0.1],
    ['abandoned', 0.1],
    ['processing', 0.001],
    ['succeeded', 0.099],
  ];
  const ids: string[] = [];
  let made = 0;
  for (const [state, share] of mix) {
    const count = state === 'succeeded' ? total - made : Math.round(total * share);
    for (let start = 0; start < count; start += INSERT_BATCH) {
      const batch: BackgroundJobRecord[] = [];
      for (let i = start; i < Math.min(count, start + INSERT_BATCH); i++) batch.push(row(state, i, now));
      await store.insert(batch);
      for (let i = 0; i < batch.length; i += 1000) ids.push(batch[i].id);
    }
    made += count;
  }
  return ids;
}

function row(state: JobState, i: number, now: number): BackgroundJobRecord {
  const minutes = (n: number) => new Date(now + n * 60_000);
  const jobName = state === 'waiting' ? 'MyReportJobArgs' : OTHER_NAMES[i % OTHER_NAMES.length];
  const base: BackgroundJobRecord = {
    id: randomUUID(),
    applicationName: null,
    jobName,
    jobArgs: JSON.stringify({ content: `row ${i} ${randomBytes(8).toString('hex')}` }),
    tryCount: 0,
    creationTime: minutes(-120 - (i % 1000)),
    nextTryTime: minutes(-(i % 60)),
    lastTryTime: null,
    isAbandoned: false,
    priority: 15,
    completionTime: null,
    extraProperties: '{}',
    concurrencyStamp: randomBytes(16).toString('hex'),
  };
  const error = JSON.stringify({
    LastError: `Error: failed try of row ${i}\n    at job (job.js:1:1)`,
    LastErrorTryCount: 3,
  });
  switch (state) {
    case 'scheduled':
      return { ...base, nextTryTime: minutes(60 + (i % 10_000)) };
    case 'retrying':
      return {
        ...base,
        tryCount: 1 + (i % 5),
        nextTryTime: minutes(30 + (i % 600)),
        lastTryTime: minutes(-1),
        extraProperties: error,
      };
    case 'abandoned':
      return { ...base, tryCount: 9, isAbandoned: true, lastTryTime: minutes(-(i % 600)), extraProperties: error };
    case 'processing':
      return {
        ...base,
        tryCount: 1,
        nextTryTime: minutes(60),
        lastTryTime: minutes(0),
        concurrencyStamp: `lease:${base.concurrencyStamp}`,
      };
    case 'succeeded':
      return { ...base, tryCount: 1, lastTryTime: minutes(-(i % 60) - 1), completionTime: minutes(-(i % 60)) };
    default:
      return base;
  }
}

/** How far stats() is from the truth, per state, with nothing running (an exact count of the whole table). */
async function estimateError(admin: BackgroundJobsAdmin, store: BackgroundJobStore): Promise<number> {
  const stats = await admin.stats();
  const exact = await store.admin.countStates(new Date(), Number.MAX_SAFE_INTEGER);
  let largest = 0;
  for (const state of JOB_STATES) {
    const truth = exact.filter((c) => c.state === state).reduce((sum, c) => sum + c.count, 0);
    const shown = stats[state] ?? 0;
    if (truth > 0) largest = Math.max(largest, Math.abs(shown - truth) / truth);
    else if (shown > 0) largest = Math.max(largest, 1);
  }
  return round(largest * 100) / 100;
}

function summary(ms: number[]) {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN);
  return { count: ms.length, p50Ms: at(0.5), p95Ms: at(0.95), maxMs: round(sorted[sorted.length - 1] ?? NaN) };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function table(results: DashboardResult[]): string {
  const header = [
    'store',
    'rows',
    'stats p50 / p95',
    'list p50 / p95',
    'get p50 / p95',
    'calls',
    'burned down',
    'estimates off by',
  ];
  const cell = (c: { p50Ms: number; p95Ms: number }) => `${c.p50Ms} / ${c.p95Ms} ms`;
  const rows = results.map((r) => [
    r.store,
    r.rows.toLocaleString('en-US'),
    cell(r.calls.stats),
    cell(r.calls.list),
    cell(r.calls.get),
    String(r.calls.stats.count + r.calls.list.count + r.calls.get.count),
    r.burnedDown.toLocaleString('en-US'),
    `<= ${(r.largestEstimateError * 100).toFixed(1)}%`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamicModule, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import {
  BACKGROUND_JOB_STORE,
  BackgroundJobsModule,
  BackgroundJobStore,
  IBackgroundJobManager,
  parseConnectionString,
} from '@app/background-jobs';
import { CommonSharedModule, MyReportJobArgs } from '@app/common-shared';
import { onCleanup } from './support/cleanup';
import { BenchDatabase, createDatabase, listenerCount } from './support/postgres';
import { freePort } from '../test/support/free-port';
import type { NodeProcess } from '../test/support/node-process';
import { sleep, waitFor } from '../test/support/wait-for';
import { clockMs, startBenchProcess, stopBenchProcess } from './support/processes';
import { FormPoster } from './support/form-post';
import { WEB_ENTRY, WORKER_ENTRY } from './support/paths';
import { LatencyProbe, SystemUnderTest } from './system';

/** The enqueuing side, as an app embeds the library: TypeORM + BackgroundJobsModule, no worker. */
@Module({})
class BenchEnqueueModule {
  static register(connectionString: string): DynamicModule {
    return {
      module: BenchEnqueueModule,
      imports: [
        TypeOrmModule.forRoot(parseConnectionString(connectionString).typeorm),
        BackgroundJobsModule.forRoot({ isJobExecutionEnabled: false, autoMigrate: true }),
        CommonSharedModule,
      ],
    };
  }
}

/** The enqueuing side on `connectionString`: the app context, its store and manager; closed at cleanup too. */
export async function openEnqueueApp(connectionString: string): Promise<{
  store: BackgroundJobStore;
  manager: IBackgroundJobManager;
  dataSource: DataSource;
  close: () => Promise<void>;
}> {
  const app = await NestFactory.createApplicationContext(BenchEnqueueModule.register(connectionString), {
    logger: ['error', 'warn'],
  });
  const close = onCleanup('close enqueue app', () => app.close());
  return {
    store: app.get<BackgroundJobStore>(BACKGROUND_JOB_STORE),
    manager: app.get<IBackgroundJobManager>(IBackgroundJobManager),
    dataSource: app.get<DataSource>(getDataSourceToken()),
    close,
  };
}

export interface OursConfig {
  store: 'PostgreSQL' | 'SQLite';
  parallel: number;
  /** AbpBackgroundJobWorker__JobPollPeriod (default: the app's 5 s); NOTIFY and the WAL watch wake the worker sooner. */
  pollPeriodMs?: number;
}

/** BENCH_STORE_SUCCESSFUL_JOBS=true: our worker keeps succeeded rows (ABP 10.6's StoreSuccessfulJobs). */
const storeSuccessfulJobs = process.env.BENCH_STORE_SUCCESSFUL_JOBS === 'true';

/** Our worker, run through its real entrypoint `node dist/main.worker.js`, JSON logs piped to us. */
export class OursSystem implements SystemUnderTest {
  readonly system: string;
  readonly store: 'PostgreSQL' | 'SQLite';
  private connectionString = '';
  private database?: BenchDatabase;
  private sqliteDir?: string;
  private closeApp?: () => Promise<void>;
  private dataSource!: DataSource;
  private jobStore!: BackgroundJobStore;
  private manager!: IBackgroundJobManager;
  private web?: NodeProcess;
  private webBase = '';
  private poster?: FormPoster;
  /** The form's hidden fields (`_csrf`, `_submission`) and the cookies that go with them. */
  private form?: { fields: Record<string, string>; cookie: string };

  constructor(private readonly config: OursConfig) {
    this.store = config.store;
    const poll = config.pollPeriodMs ? `, poll ${config.pollPeriodMs} ms` : '';
    const kept = storeSuccessfulJobs ? ', StoreSuccessfulJobs' : '';
    this.system = `ours, MaxParallelJobExecutionCount ${config.parallel}${poll}${kept}`;
  }

  async prepare(): Promise<void> {
    if (this.config.store === 'PostgreSQL') {
      this.database = await createDatabase('ours');
      this.connectionString = this.database.url;
    } else {
      const dir = mkdtempSync(join(tmpdir(), 'bj-bench-'));
      this.sqliteDir = dir;
      onCleanup(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
      this.connectionString = `Data Source=${join(dir, 'jobs.db')}`;
    }
    const app = await openEnqueueApp(this.connectionString);
    this.closeApp = app.close;
    this.dataSource = app.dataSource;
    this.jobStore = app.store;
    this.manager = app.manager;
  }

  async enqueueBatch(contents: string[]): Promise<void> {
    await this.manager.enqueueMany(
      contents.map((content) => ({ args: Object.assign(new MyReportJobArgs(), { content }) })),
    );
  }

  async singleEnqueueRate(count: number): Promise<number> {
    const started = clockMs();
    for (let i = 0; i < count; i++)
      await this.manager.enqueue(Object.assign(new MyReportJobArgs(), { content: `single-${i}` }));
    const rate = count / ((clockMs() - started) / 1000);
    await this.clear();
    return rate;
  }

  /** Rows not run yet; with StoreSuccessfulJobs the kept rows stay, so only live rows count (read through the dequeue index). */
  async remaining(): Promise<number> {
    if (!storeSuccessfulJobs) return this.jobStore.count();
    const notAbandoned = this.config.store === 'PostgreSQL' ? 'FALSE' : '0';
    const [row] = await this.dataSource.query<Array<{ n: number | string }>>(
      `SELECT COUNT(*) AS n FROM "AbpBackgroundJobs" WHERE "CompletionTime" IS NULL AND "IsAbandoned" = ${notAbandoned}`,
    );
    return Number(row.n);
  }

  async clear(): Promise<void> {
    await this.dataSource.query('DELETE FROM "AbpBackgroundJobs"');
  }

  async startConsumer(): Promise<NodeProcess> {
    const [worker] = await this.startWorkers(1);
    return worker;
  }

  /** `count` worker processes, each as `startConsumer` starts one; resolves once all are idle. */
  async startWorkers(count: number): Promise<NodeProcess[]> {
    const workers = Array.from({ length: count }, (_, i) =>
      this.spawnWorker(count === 1 ? 'our worker' : `our worker ${i + 1}`),
    );
    await Promise.all(workers.map((worker) => worker.waitForLog('Worker started on', 30_000)));
    if (this.database) {
      const name = this.database.name;
      await waitFor('our workers to LISTEN', async () => (await listenerCount(name)) >= count, 10_000, 50);
    }
    await sleep(200); // their first claims (nothing due) are done: idle
    return workers;
  }

  private spawnWorker(name: string): NodeProcess {
    return startBenchProcess({
      name,
      script: WORKER_ENTRY,
      env: this.env({
        AbpBackgroundJobWorker__MaxParallelJobExecutionCount: String(this.config.parallel),
        ...(this.config.pollPeriodMs
          ? { AbpBackgroundJobWorker__JobPollPeriod: String(this.config.pollPeriodMs) }
          : {}),
        ...(storeSuccessfulJobs ? { AbpBackgroundJobWorker__StoreSuccessfulJobs: 'true' } : {}),
        // What an operator adds, e.g. "Worker__HttpPort=9464 OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318".
        ...workerEnvFromBench(),
      }),
      // For diagnosis only, e.g. BENCH_WORKER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
      nodeArgs: (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean),
    });
  }

  latencyProbes(): LatencyProbe[] {
    return [
      { label: 'form POST to the web app -> job start', enqueue: (content) => this.postForm(content) },
      {
        label: 'enqueue() -> job start',
        enqueue: async (content) => {
          const sent = clockMs();
          await this.manager.enqueue(Object.assign(new MyReportJobArgs(), { content }));
          return sent;
        },
      },
    ];
  }

  /** The form POST to the web app (`node dist/main.web.js`); the worker is the consumer. */
  private async postForm(content: string): Promise<number> {
    if (!this.form) await this.startWeb();
    const { fields, cookie } = this.form!;
    // As a browser sends the form: its hidden fields (the CSRF token, the submission id) and the text.
    const body = new URLSearchParams({ ...fields, ReportContent: content }).toString();
    const sent = clockMs();
    const status = await this.poster!.post('/', body, cookie);
    if (status !== 303) throw new Error(`POST / answered ${status}`);
    return sent;
  }

  async dispose(): Promise<void> {
    this.poster?.close();
    if (this.web) await stopBenchProcess(this.web);
    await this.closeApp?.();
    await this.database?.drop();
    if (this.sqliteDir) rmSync(this.sqliteDir, { recursive: true, force: true });
  }

  private async startWeb(): Promise<void> {
    const port = await freePort();
    this.web = startBenchProcess({
      name: 'our web app',
      script: WEB_ENTRY,
      env: this.env({ PORT: String(port), Web__Secret: randomBytes(32).toString('hex') }),
      nodeArgs: (process.env.BENCH_WEB_NODE_ARGS ?? '').split(' ').filter(Boolean),
    });
    await this.web.waitForLog('Web app listening', 30_000);
    this.webBase = `http://127.0.0.1:${port}`;
    this.poster = new FormPoster('127.0.0.1', port);
    const res = await fetch(`${this.webBase}/`);
    const html = await res.text();
    const fields = Object.fromEntries(
      [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1], m[2]]),
    );
    if (!fields._csrf || !fields._submission) throw new Error('no CSRF token or submission id on the index page');
    const cookie = res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    this.form = { fields, cookie };
  }

  private env(extra: Record<string, string>): Record<string, string> {
    return {
      ConnectionStrings__AbpBackgroundJobs: this.connectionString,
      Logging__Format: 'json',
      Logging__Level: 'info',
      ...extra,
    };
  }
}

/** BENCH_WORKER_ENV: space-separated NAME=value settings added to our worker's environment (metrics, tracing). */
function workerEnvFromBench(): Record<string, string> {
  const entries = (process.env.BENCH_WORKER_ENV ?? '').split(/\s+/).filter(Boolean);
  return Object.fromEntries(
    entries.map((entry) => {
      const eq = entry.indexOf('=');
      if (eq <= 0) throw new Error(`BENCH_WORKER_ENV: "${entry}" is not NAME=value`);
      return [entry.slice(0, eq), entry.slice(eq + 1)];
    }),
  );
}

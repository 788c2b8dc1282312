import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamicModule, INestApplicationContext, Module } from '@nestjs/common';
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
import { BenchDatabase, createDatabase, hasListener } from './support/postgres';
import { freePort } from '../test/support/free-port';
import type { NodeProcess } from '../test/support/node-process';
import { sleep, waitFor } from '../test/support/wait-for';
import { clockMs, startBenchProcess, stopBenchProcess } from './support/processes';
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

export interface OursConfig {
  store: 'PostgreSQL' | 'SQLite';
  parallel: number;
  /** AbpBackgroundJobWorker__JobPollPeriod; PostgreSQL is woken by NOTIFY and does not need it. */
  pollPeriodMs?: number;
}

/** Our worker, run through its real entrypoint `node dist/main.worker.js`, JSON logs piped to us. */
export class OursSystem implements SystemUnderTest {
  readonly system: string;
  readonly store: 'PostgreSQL' | 'SQLite';
  private connectionString = '';
  private database?: BenchDatabase;
  private sqliteDir?: string;
  private app?: INestApplicationContext;
  private closeApp?: () => Promise<void>;
  private jobStore!: BackgroundJobStore;
  private manager!: IBackgroundJobManager;
  private web?: NodeProcess;
  private webBase = '';
  private csrf?: { token: string; cookie: string };

  constructor(private readonly config: OursConfig) {
    this.store = config.store;
    const poll = config.pollPeriodMs ? `, poll ${config.pollPeriodMs} ms` : '';
    this.system = `ours, MaxParallelJobExecutionCount ${config.parallel}${poll}`;
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
    const app = await NestFactory.createApplicationContext(BenchEnqueueModule.register(this.connectionString), {
      logger: ['error', 'warn'],
    });
    this.app = app;
    this.closeApp = onCleanup('close enqueue app', () => app.close());
    this.jobStore = app.get<BackgroundJobStore>(BACKGROUND_JOB_STORE);
    this.manager = app.get<IBackgroundJobManager>(IBackgroundJobManager);
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

  remaining(): Promise<number> {
    return this.jobStore.count();
  }

  async clear(): Promise<void> {
    await this.app!.get<DataSource>(getDataSourceToken()).query('DELETE FROM "AbpBackgroundJobs"');
  }

  async startConsumer(): Promise<NodeProcess> {
    const worker = startBenchProcess({
      name: 'our worker',
      script: WORKER_ENTRY,
      env: this.env({
        AbpBackgroundJobWorker__MaxParallelJobExecutionCount: String(this.config.parallel),
        ...(this.config.pollPeriodMs
          ? { AbpBackgroundJobWorker__JobPollPeriod: String(this.config.pollPeriodMs) }
          : {}),
      }),
      // For diagnosis only, e.g. BENCH_WORKER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
      nodeArgs: (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean),
    });
    await worker.waitForLog('Worker started on', 30_000);
    if (this.database) {
      const name = this.database.name;
      await waitFor('our worker to LISTEN', () => hasListener(name), 10_000, 50);
    }
    await sleep(200); // its first claim (nothing due) is done: idle
    return worker;
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
    if (!this.csrf) await this.startWeb();
    const body = new URLSearchParams({ _csrf: this.csrf!.token, ReportContent: content }).toString();
    const sent = clockMs();
    const res = await fetch(`${this.webBase}/`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: this.csrf!.cookie },
      body,
    });
    await res.arrayBuffer();
    if (res.status !== 303) throw new Error(`POST / answered ${res.status}`);
    return sent;
  }

  async dispose(): Promise<void> {
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
    const res = await fetch(`${this.webBase}/`);
    const html = await res.text();
    const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
    if (!token) throw new Error('no CSRF token on the index page');
    const cookie = res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    this.csrf = { token, cookie };
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

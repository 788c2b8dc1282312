import { LoggerService } from '@nestjs/common';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { BackgroundJobStore } from '../store/background-job-store';
import type { WorkerHeartbeatRow } from '../store/job-admin-store';
import { describeError } from './last-error';

/** How often a worker writes its heartbeat row. */
export const WORKER_HEARTBEAT_PERIOD_MS = 5_000;
/** A worker whose last heartbeat is older than this (three periods missed) is no longer shown as live. */
export const WORKER_HEARTBEAT_LIVE_MS = 3 * WORKER_HEARTBEAT_PERIOD_MS + 1_000;
/** Rows of workers that died without deleting theirs are deleted once their heartbeat is this old. */
export const WORKER_HEARTBEAT_PRUNE_AFTER_MS = 10 * 60_000;
/** Prunes every this many beats (once a minute). */
const PRUNE_EVERY = 12;

export interface WorkerIdentity {
  applicationName: string | null;
  /** Read at every beat (a getter may give the names of handlers registered since). */
  jobNames: string[];
  maxParallel: number;
}

/**
 * The worker's row in AbpBackgroundJobWorkers (a table of ours, beside ABP's): written at start and
 * every few seconds with how many jobs run now, deleted on a graceful stop. Rows of dead workers
 * are pruned by the live ones. A write that fails waits for the next beat: a database that does
 * not answer is the worker's outage log's business, not this part's.
 */
export class WorkerHeartbeat {
  readonly id = randomUUID();
  private readonly startedAt = new Date();
  private timer?: NodeJS.Timeout;
  private beating?: Promise<void>;
  private beats = 0;
  private failing = false;

  constructor(
    private readonly store: BackgroundJobStore,
    private readonly identity: WorkerIdentity,
    private readonly running: () => number,
    private readonly logger: LoggerService,
    private readonly periodMs = WORKER_HEARTBEAT_PERIOD_MS,
  ) {}

  start(): void {
    this.beatOnce();
    this.timer = setInterval(() => this.beatOnce(), this.periodMs);
    this.timer.unref();
  }

  /** Stops beating and deletes the row, so the worker leaves the list at once. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.beating;
    await this.store.heartbeats.remove(this.id).catch((error: unknown) => this.failed(error));
  }

  private beatOnce(): void {
    if (this.beating) return;
    this.beating = this.beat().finally(() => (this.beating = undefined));
  }

  private async beat(): Promise<void> {
    const now = new Date();
    const row: WorkerHeartbeatRow = {
      id: this.id,
      host: hostname(),
      pid: process.pid,
      ...this.identity,
      running: this.running(),
      startedAt: this.startedAt,
      lastHeartbeat: now,
    };
    try {
      await this.store.heartbeats.beat(row);
      if (this.beats++ % PRUNE_EVERY === 0)
        await this.store.heartbeats.prune(new Date(now.getTime() - WORKER_HEARTBEAT_PRUNE_AFTER_MS));
      this.failing = false;
    } catch (error) {
      this.failed(error);
    }
  }

  /** One warning per run of failures, none for an unreachable database. */
  private failed(error: unknown): void {
    if (this.failing || this.store.isUnavailable(error)) return;
    this.failing = true;
    this.logger.warn(`Could not write the worker's heartbeat: ${describeError(error)}`);
  }
}

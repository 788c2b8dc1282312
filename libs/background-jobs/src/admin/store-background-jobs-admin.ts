import { Inject, Injectable, Logger } from '@nestjs/common';
import { BACKGROUND_JOBS_OPTIONS } from '../background-jobs.tokens';
import type { ResolvedBackgroundJobsOptions } from '../background-jobs.options';
import { BACKGROUND_JOB_STORE, BackgroundJobStore } from '../store/background-job-store';
import { chunk } from '../store/dialects/dialect-helpers';
import { JobStateRow } from '../store/job-admin-store';
import { newConcurrencyStamp } from '../store/stamps';
import { WORKER_HEARTBEAT_LIVE_MS } from '../worker/worker-heartbeat';
import {
  ActionResult,
  Actor,
  AdminInputError,
  BackgroundJobsAdmin,
  HistoryPoint,
  JobListPage,
  JobListQuery,
  JobSelection,
  JobState,
  JobStats,
  JobView,
  UnrunJobNames,
  WorkerInfo,
} from './background-jobs-admin.types';
import { DELETE_STATES, isHeld, parseState, REQUEUE_STATES, stateOf } from './job-states';
import { decodeCursor, encodeCursor } from './list-cursor';
import { withRequeueHistory } from './requeue-history';
import { statsOf, viewOf } from './job-views';

/** Counts are exact up to this many rows of a state; above it, the database's estimate. */
export const EXACT_COUNT_LIMIT = 100_000;
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;
/** Most ids one action call takes. */
export const MAX_IDS_PER_ACTION = 10_000;
/** Ids per store call within an action, and rows per page of a selection. */
const BATCH = 500;
/** Reads and compare-and-set writes of a requeue before a row that keeps changing is reported as it stands. */
const REQUEUE_ROUNDS = 3;
/** Ids named in an action's log line; the rest are counted. */
const LOGGED_IDS = 100;
const HOUR = 60 * 60 * 1000;
const MINUTE = 60 * 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Action = 'requeue' | 'run-now' | 'delete';
const DONE_VERB: Record<Action, string> = { requeue: 'requeued', 'run-now': 'ran now', delete: 'deleted' };
const APPLIES_TO: Record<Action, string> = {
  requeue: 'abandoned or retrying',
  'run-now': 'scheduled',
  delete: 'not processing',
};

/**
 * BackgroundJobsAdmin on the module's store: the dashboard, the JSON API and the CLI call this,
 * never SQL. Reads and writes go through store.admin (one implementation per dialect); this class
 * checks input, pages, classifies what an action could not do, and writes one log line per action.
 */
@Injectable()
export class StoreBackgroundJobsAdmin extends BackgroundJobsAdmin {
  private readonly logger = new Logger('BackgroundJobsAdmin');

  constructor(
    @Inject(BACKGROUND_JOB_STORE) private readonly store: BackgroundJobStore,
    @Inject(BACKGROUND_JOBS_OPTIONS) private readonly options: ResolvedBackgroundJobsOptions,
  ) {
    super();
  }

  async stats(): Promise<JobStats> {
    const counts = await this.store.admin.countStates(new Date(), EXACT_COUNT_LIMIT);
    // Succeeded rows found (kept by another app on the table, or before the setting was turned off) are shown too.
    return statsOf(counts, this.succeededKept() || counts.some((c) => c.state === 'succeeded' && c.count > 0));
  }

  async list(query: JobListQuery): Promise<JobListPage> {
    const state = parseState(query?.state);
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE)
      throw new AdminInputError(`Invalid limit ${JSON.stringify(limit)}: a whole number from 1 to ${MAX_PAGE_SIZE}`);
    if (query.jobName !== undefined && typeof query.jobName !== 'string')
      throw new AdminInputError('Invalid jobName: a job name is text');
    if (
      query.applicationName !== undefined &&
      query.applicationName !== null &&
      typeof query.applicationName !== 'string'
    )
      throw new AdminInputError('Invalid applicationName: an application name is text');
    const after = query.after === undefined ? undefined : decodeCursor(query.after, state);
    const listed = await this.store.admin.list({
      state,
      now: new Date(),
      jobName: query.jobName,
      applicationName: query.applicationName,
      limit: limit + 1,
      after,
    });
    const page = listed.slice(0, limit);
    return {
      items: page.map((job) => ({
        ...viewOf(job.record, state),
        ...(job.jobArgsTruncated ? { jobArgsTruncated: true } : {}),
      })),
      next: listed.length > limit ? encodeCursor(state, page[page.length - 1].position) : null,
    };
  }

  async get(id: string): Promise<JobView | undefined> {
    if (typeof id !== 'string' || !UUID.test(id)) return undefined;
    const record = await this.store.find(id);
    return record && viewOf(record, stateOf(record, new Date()));
  }

  async requeue(ids: string[], actor: Actor): Promise<ActionResult> {
    const result = await this.requeueIds(checkIds(ids), actor);
    this.logAction(actor, 'requeue', result);
    return result;
  }

  async requeueWhere(selection: JobSelection, actor: Actor): Promise<ActionResult> {
    const state = parseState(selection?.state, REQUEUE_STATES);
    const result = await this.forSelection(state, selection.jobName, (ids) => this.requeueIds(ids, actor));
    this.logAction(actor, 'requeue', result, selectionText(state, selection.jobName));
    return result;
  }

  async runNow(ids: string[], actor: Actor): Promise<ActionResult> {
    const result = await this.inBatches(checkIds(ids), async (batch, now) =>
      this.store.admin.runNow(batch, now, newConcurrencyStamp()),
    );
    this.logAction(actor, 'run-now', result);
    return result;
  }

  async delete(ids: string[], actor: Actor): Promise<ActionResult> {
    const result = await this.inBatches(checkIds(ids), (batch, now) => this.store.admin.delete(batch, now));
    this.logAction(actor, 'delete', result);
    return result;
  }

  async deleteWhere(selection: JobSelection, actor: Actor): Promise<ActionResult> {
    const state = parseState(selection?.state, DELETE_STATES);
    const result = await this.forSelection(state, selection.jobName, (ids) =>
      this.inBatches(ids, (batch, now) => this.store.admin.delete(batch, now)),
    );
    this.logAction(actor, 'delete', result, selectionText(state, selection.jobName));
    return result;
  }

  async workers(): Promise<WorkerInfo[]> {
    const beats = await this.store.heartbeats.live(new Date(Date.now() - WORKER_HEARTBEAT_LIVE_MS));
    return beats.map((beat) => ({
      ...beat,
      startedAt: beat.startedAt.toISOString(),
      lastHeartbeat: beat.lastHeartbeat.toISOString(),
    }));
  }

  /**
   * A worker claims only the rows of its own ApplicationName (a worker of none: rows of none), of
   * the names in its heartbeat; on a table without the column (applicationName absent) every row.
   * Names compare byte for byte, as the claim does. ApplicationName compares byte for byte too,
   * where MySQL's and SQL Server's claims go by the column's collation: rows of 'reports' that a
   * worker of 'Reports' would take there are listed.
   */
  async unrunJobNames(): Promise<UnrunJobNames> {
    const now = new Date();
    const workers = await this.store.heartbeats.live(new Date(now.getTime() - WORKER_HEARTBEAT_LIVE_MS));
    if (workers.length === 0) return { liveWorkers: 0, jobNamesNoWorkerRuns: [] };
    const anyApplication = new Set(workers.flatMap((worker) => worker.jobNames));
    const byApplication = new Map<string | null, Set<string>>();
    for (const worker of workers) {
      const names = byApplication.get(worker.applicationName) ?? new Set<string>();
      worker.jobNames.forEach((name) => names.add(name));
      byApplication.set(worker.applicationName, names);
    }
    const due = await this.store.countDueByApplication(now);
    return {
      liveWorkers: workers.length,
      jobNamesNoWorkerRuns: due
        .filter(({ applicationName, jobName }) => {
          const runs = applicationName === undefined ? anyApplication : byApplication.get(applicationName);
          return !runs?.has(jobName);
        })
        .map(({ applicationName, jobName, count }) => ({ applicationName: applicationName ?? null, jobName, count })),
    };
  }

  /** Only while succeeded rows are kept: without them a chart of failures alone would mislead. */
  async history(): Promise<HistoryPoint[] | null> {
    if (!this.succeededKept()) return null;
    const now = new Date();
    const since = new Date(Math.floor((now.getTime() - HOUR) / MINUTE + 1) * MINUTE);
    const counts = new Map(
      (await this.store.admin.history(since, now)).map((point) => [point.minute.getTime(), point]),
    );
    const points: HistoryPoint[] = [];
    for (let minute = since.getTime(); minute <= now.getTime(); minute += MINUTE) {
      const point = counts.get(minute);
      points.push({
        minute: new Date(minute).toISOString(),
        succeeded: point?.succeeded ?? 0,
        failed: point?.failed ?? 0,
      });
    }
    return points;
  }

  /**
   * ABP 10.6's StoreSuccessfulJobs as this process's settings say: succeeded rows are kept, so
   * their count and the history mean something. The web app reads the same settings as the
   * worker (AppCoreModule), so `AbpBackgroundJobWorker__StoreSuccessfulJobs` reaches it too.
   */
  private succeededKept(): boolean {
    return this.options.worker.storeSuccessfulJobs;
  }

  /**
   * Reads the rows, sends those a requeue applies to with the stamp it read, and reads again
   * those whose stamp changed meanwhile (a claim took them, another requeue did it): the write
   * happens only while the row is as it was read.
   */
  private async requeueIds(ids: string[], actor: Actor): Promise<ActionResult> {
    const { valid, result } = withoutInvalidIds(ids);
    for (const batch of chunk(valid, BATCH)) {
      let pending = batch;
      for (let round = 1; pending.length > 0; round++) {
        const now = new Date();
        const rows = await this.store.admin.read(pending);
        const updates = [];
        const changed: string[] = [];
        for (const [id, row] of byId(pending, rows)) {
          if (!row) result.missing.push(id);
          else if (isHeld(row, now)) result.held.push(id);
          else if (!REQUEUE_STATES.includes(stateOf(row, now))) result.missing.push(id);
          else
            updates.push({
              id,
              expectedStamp: row.concurrencyStamp,
              extraProperties: withRequeueHistory(row.extraProperties, now, actor.name),
              newStamp: newConcurrencyStamp(),
            });
        }
        const done = new Set(updates.length > 0 ? await this.store.admin.requeue(updates, now) : []);
        for (const update of updates) (done.has(update.id) ? result.done : changed).push(update.id);
        if (round === REQUEUE_ROUNDS && changed.length > 0) {
          await this.classify(changed, result);
          break;
        }
        pending = changed;
      }
    }
    return result;
  }

  /** Runs a one-statement action batch by batch; what it did not do is told apart by a read. */
  private async inBatches(
    ids: string[],
    act: (batch: string[], now: Date) => Promise<string[]>,
  ): Promise<ActionResult> {
    const { valid, result } = withoutInvalidIds(ids);
    for (const batch of chunk(valid, BATCH)) {
      const done = new Set(await act(batch, new Date()));
      result.done.push(...batch.filter((id) => done.has(id)));
      await this.classify(
        batch.filter((id) => !done.has(id)),
        result,
      );
    }
    return result;
  }

  /** Ids an action did not change: held when a live lease holds the row now, missing otherwise. */
  private async classify(ids: string[], result: ActionResult): Promise<void> {
    if (ids.length === 0) return;
    const now = new Date();
    for (const [id, row] of byId(ids, await this.store.admin.read(ids)))
      (row && isHeld(row, now) ? result.held : result.missing).push(id);
  }

  /** Applies `act` to every row of a state (and job name), a page at a time, each row once. */
  private async forSelection(
    state: JobState,
    jobName: string | undefined,
    act: (ids: string[]) => Promise<ActionResult>,
  ): Promise<ActionResult> {
    if (jobName !== undefined && typeof jobName !== 'string')
      throw new AdminInputError('Invalid jobName: a job name is text');
    const result: ActionResult = { done: [], held: [], missing: [] };
    let after: string | undefined;
    do {
      const page = await this.list({ state, jobName, limit: MAX_PAGE_SIZE, after });
      const done = await act(page.items.map((item) => item.id));
      result.done.push(...done.done);
      result.held.push(...done.held);
      result.missing.push(...done.missing);
      after = page.next ?? undefined;
    } while (after);
    return result;
  }

  private logAction(actor: Actor, action: Action, result: ActionResult, selection?: string): void {
    const parts = [
      `${actor.name} ${DONE_VERB[action]} ${result.done.length} job(s)${selection ? ` (${selection})` : ''}${idList(result.done)}`,
    ];
    if (result.held.length > 0) parts.push(`refused ${result.held.length} held by a worker${idList(result.held)}`);
    if (result.missing.length > 0)
      parts.push(`${result.missing.length} not found or not ${APPLIES_TO[action]}${idList(result.missing)}`);
    this.logger.log(parts.join('; '));
  }
}

/** Ids as an action takes them: an array of text, at most MAX_IDS_PER_ACTION; lower case, each once. */
function checkIds(ids: unknown): string[] {
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string'))
    throw new AdminInputError('Invalid ids: a list of job ids (text)');
  if (ids.length > MAX_IDS_PER_ACTION)
    throw new AdminInputError(`Too many ids: ${ids.length}, at most ${MAX_IDS_PER_ACTION} per call`);
  return [...new Set((ids as string[]).map((id) => id.toLowerCase()))];
}

/** The ids that are UUIDs, to ask the store about, and a result with the others as missing (no row has them). */
function withoutInvalidIds(ids: string[]): { valid: string[]; result: ActionResult } {
  return {
    valid: ids.filter((id) => UUID.test(id)),
    result: { done: [], held: [], missing: ids.filter((id) => !UUID.test(id)) },
  };
}

/** Each id with its row, if it has one. */
function byId(ids: string[], rows: JobStateRow[]): Array<[string, JobStateRow | undefined]> {
  const found = new Map(rows.map((row) => [row.id.toLowerCase(), row]));
  return ids.map((id) => [id, found.get(id)]);
}

function idList(ids: string[]): string {
  if (ids.length === 0) return '';
  const shown = ids.slice(0, LOGGED_IDS).join(', ');
  return `: ${shown}${ids.length > LOGGED_IDS ? ` and ${ids.length - LOGGED_IDS} more` : ''}`;
}

function selectionText(state: JobState, jobName: string | undefined): string {
  return `all ${state}${jobName === undefined ? '' : ` of job name ${JSON.stringify(jobName)}`}`;
}

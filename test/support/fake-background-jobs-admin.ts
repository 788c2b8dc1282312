import {
  ActionResult,
  Actor,
  AdminInputError,
  BackgroundJobsAdmin,
  HistoryPoint,
  JOB_STATES,
  JobListPage,
  JobListQuery,
  JobSelection,
  JobState,
  JobStats,
  JobNameNoWorkerRuns,
  JobView,
  StateCounts,
  UnrunJobNames,
  WorkerInfo,
} from '@app/background-jobs/admin/background-jobs-admin.types';

/** One call of an action, as the fake saw it. */
export interface ActionCall {
  action: string;
  ids?: string[];
  selection?: JobSelection;
  actor: Actor;
}

/**
 * A small stand-in for the management service, for the dashboard's unit tests only: rows in an
 * array, `held` ids a worker holds, the state rules of the contract's comments. The real service
 * is tested in the contract suite and through the built apps.
 */
export class FakeBackgroundJobsAdmin extends BackgroundJobsAdmin {
  jobs: JobView[] = [];
  held = new Set<string>();
  workerList: WorkerInfo[] = [];
  /** What unrunJobNames() lists while `workerList` has a worker. */
  unrun: JobNameNoWorkerRuns[] = [];
  historyPoints: HistoryPoint[] | null = null;
  estimated = false;
  readonly calls: ActionCall[] = [];

  async stats(): Promise<JobStats> {
    const byJobName: Record<string, StateCounts> = {};
    const total = emptyCounts();
    for (const job of this.jobs) {
      const counts = (byJobName[job.jobName] ??= emptyCounts());
      counts[job.state] = (counts[job.state] ?? 0) + 1;
      total[job.state] = (total[job.state] ?? 0) + 1;
    }
    return { ...total, byJobName, estimated: this.estimated };
  }

  async list(query: JobListQuery): Promise<JobListPage> {
    if (!(JOB_STATES as readonly string[]).includes(query.state)) throw new AdminInputError(`bad state ${query.state}`);
    const limit = query.limit ?? 50;
    if (limit < 1 || limit > 500) throw new AdminInputError('limit must be 1..500');
    let after: string | undefined;
    if (query.after !== undefined) {
      after = Buffer.from(query.after, 'base64url').toString('utf8');
      if (!/^[0-9a-f-]{36}$/i.test(after)) throw new AdminInputError('That is not a cursor of this list');
    }
    const rows = this.jobs
      .filter((job) => job.state === query.state)
      .filter((job) => query.jobName === undefined || job.jobName === query.jobName)
      .filter((job) => query.applicationName === undefined || job.applicationName === query.applicationName)
      .filter((job) => after === undefined || job.id > after)
      .sort((a, b) => a.id.localeCompare(b.id));
    const items = rows.slice(0, limit);
    const next = rows.length > limit ? Buffer.from(items[items.length - 1].id).toString('base64url') : null;
    return { items, next };
  }

  async get(id: string): Promise<JobView | undefined> {
    return this.jobs.find((job) => job.id.toLowerCase() === id.toLowerCase());
  }

  async requeue(ids: string[], actor: Actor): Promise<ActionResult> {
    this.calls.push({ action: 'requeue', ids, actor });
    return this.act(ids, ['abandoned', 'retrying'], (job) =>
      Object.assign(job, { state: 'waiting', isAbandoned: false, tryCount: 0 }),
    );
  }

  async requeueWhere(selection: JobSelection, actor: Actor): Promise<ActionResult> {
    this.calls.push({ action: 'requeueWhere', selection, actor });
    if (selection.state !== 'abandoned' && selection.state !== 'retrying') {
      throw new AdminInputError(`Requeue applies to abandoned or retrying jobs, not ${selection.state}`);
    }
    return this.requeue(this.selected(selection), actor);
  }

  async runNow(ids: string[], actor: Actor): Promise<ActionResult> {
    this.calls.push({ action: 'runNow', ids, actor });
    return this.act(ids, ['scheduled'], (job) => Object.assign(job, { state: 'waiting' }));
  }

  async delete(ids: string[], actor: Actor): Promise<ActionResult> {
    this.calls.push({ action: 'delete', ids, actor });
    return this.act(ids, JOB_STATES, (job) => (this.jobs = this.jobs.filter((other) => other !== job)));
  }

  async deleteWhere(selection: JobSelection, actor: Actor): Promise<ActionResult> {
    this.calls.push({ action: 'deleteWhere', selection, actor });
    return this.delete(this.selected(selection), actor);
  }

  async workers(): Promise<WorkerInfo[]> {
    return this.workerList;
  }

  async unrunJobNames(): Promise<UnrunJobNames> {
    const liveWorkers = this.workerList.length;
    return { liveWorkers, jobNamesNoWorkerRuns: liveWorkers > 0 ? this.unrun : [] };
  }

  async history(): Promise<HistoryPoint[] | null> {
    return this.historyPoints;
  }

  private selected(selection: JobSelection): string[] {
    return this.jobs
      .filter((job) => job.state === selection.state)
      .filter((job) => selection.jobName === undefined || job.jobName === selection.jobName)
      .map((job) => job.id);
  }

  private act(ids: string[], states: readonly JobState[], change: (job: JobView) => void): ActionResult {
    const result: ActionResult = { done: [], held: [], missing: [] };
    for (const id of ids) {
      const job = this.jobs.find((row) => row.id.toLowerCase() === id.toLowerCase());
      if (job && this.held.has(job.id)) result.held.push(id);
      else if (!job || !states.includes(job.state)) result.missing.push(id);
      else {
        change(job);
        result.done.push(id);
      }
    }
    return result;
  }
}

function emptyCounts(): StateCounts {
  return { waiting: 0, scheduled: 0, retrying: 0, processing: 0, abandoned: 0, succeeded: null };
}

let sequence = 0;

/** A row in `state`, with every column set; `fields` overrides any. */
export function fakeJob(state: JobState, fields: Partial<JobView> = {}): JobView {
  sequence += 1;
  const id = `0190a0b0-0000-7000-8000-${String(sequence).padStart(12, '0')}`;
  return {
    id,
    applicationName: null,
    jobName: 'MyReportJobArgs',
    jobArgs: JSON.stringify({ content: `job ${sequence}` }),
    tryCount: state === 'retrying' || state === 'abandoned' ? 3 : 0,
    creationTime: '2026-12-01T10:00:00.000Z',
    nextTryTime: '2026-12-01T10:05:00.000Z',
    lastTryTime: state === 'retrying' || state === 'abandoned' ? '2026-12-01T10:04:00.000Z' : null,
    isAbandoned: state === 'abandoned',
    priority: 15,
    completionTime: null,
    extraProperties: '{}',
    concurrencyStamp: 'b1c2d3e4f5a6478899aabbccddeeff00',
    state,
    ...fields,
  };
}

/** A live worker's heartbeat as workers() answers it: no application, running MyReportJobArgs; `fields` overrides any. */
export function fakeWorker(fields: Partial<WorkerInfo> = {}): WorkerInfo {
  return {
    id: 'w1',
    host: 'h',
    pid: 1,
    applicationName: null,
    jobNames: ['MyReportJobArgs'],
    maxParallel: 1,
    running: 0,
    startedAt: '2026-12-01T10:00:00.000Z',
    lastHeartbeat: '2026-12-01T10:00:00.000Z',
    ...fields,
  };
}

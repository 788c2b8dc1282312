import type {
  HistoryPoint,
  JobListPage,
  JobState,
  JobStats,
  JobView,
  UnrunJobNames,
  WorkerInfo,
} from '@app/background-jobs/admin/background-jobs-admin.types';
import { JOB_STATES } from '@app/background-jobs/admin/background-jobs-admin.types';
import { WORKER_HEARTBEAT_LIVE_MS } from '@app/background-jobs/worker/worker-heartbeat';
import { ACTION_LABELS, ACTIONS_BY_STATE, CANCELLABLE_STATES, JobAction } from '../job-actions';
import {
  cutText,
  EXACT_STATE_ROWS,
  formatCount,
  formatTime,
  isEstimate,
  oneLine,
  prettyJson,
  relativeTime,
} from './formatting';
import { historyChart } from './history-chart';
import { STATE_LABELS } from './state-labels';

/** How many characters of args and ExtraProperties a job page shows; the rest is a download. */
export const SHOWN_CHARACTERS = 20_000;
export const PAGE_SIZE = 50;

const PRIORITY_NAMES: Record<number, string> = {
  5: 'Low',
  10: 'BelowNormal',
  15: 'Normal',
  20: 'AboveNormal',
  25: 'High',
};

export interface ListFilters {
  jobName?: string;
  applicationName?: string;
  /** Only rows with no ApplicationName (`?noApplication=1`); applicationName is then ignored. */
  noApplication?: boolean;
}

/** The service's application filter for these filters: a name, null for rows with none, undefined for any. */
export function applicationFilter(filters: ListFilters): string | null | undefined {
  return filters.noApplication ? null : filters.applicationName || undefined;
}

/** Links between the pages, all below the dashboard's path. */
export class DashboardLinks {
  constructor(readonly base: string) {}

  state(state: JobState, filters: ListFilters = {}, after?: string): string {
    const query = new URLSearchParams();
    if (filters.jobName) query.set('jobName', filters.jobName);
    if (filters.noApplication) query.set('noApplication', '1');
    else if (filters.applicationName) query.set('applicationName', filters.applicationName);
    if (after) query.set('after', after);
    const text = query.toString();
    return `${this.base}/states/${state}${text ? `?${text}` : ''}`;
  }

  job(id: string): string {
    return `${this.base}/jobs/${encodeURIComponent(id)}`;
  }

  schedules(): string {
    return `${this.base}/schedules`;
  }

  workers(): string {
    return `${this.base}/workers`;
  }

  /** Where a schedule's form posts (a name may hold any printable character). */
  scheduleAction(name: string, action: string): string {
    return `${this.base}/schedules/${encodeURIComponent(name)}/${action}`;
  }
}

export function overviewModel(stats: JobStats, history: HistoryPoint[] | null, links: DashboardLinks) {
  const count = (state: JobState, value: number | null) =>
    value === null ? 'not kept' : formatCount(value, isEstimate(stats[state], stats.estimated));
  return {
    title: 'Jobs',
    tab: 'overview',
    statsUrl: `${links.base}/api/stats`,
    exactStateRows: EXACT_STATE_ROWS,
    estimated: JOB_STATES.some((state) => isEstimate(stats[state], stats.estimated)),
    states: JOB_STATES.map((state) => ({
      state,
      ...STATE_LABELS[state],
      count: count(state, stats[state]),
      href: links.state(state),
    })),
    byJobName: Object.keys(stats.byJobName)
      .sort()
      .map((name) => ({
        name,
        cells: JOB_STATES.map((state) => ({
          state,
          count: count(state, stats.byJobName[name][state]),
          href: links.state(state, { jobName: name }),
          some: (stats.byJobName[name][state] ?? 0) > 0,
        })),
      })),
    stateHeaders: JOB_STATES.map((state) => STATE_LABELS[state].label),
    chart: history === null ? null : historyChart(history),
  };
}

/**
 * The overview's card of due rows no live worker runs when the table is too big to count them in
 * the overview's time (stats are estimated): a link to the workers page, which counts them.
 */
export function deferredUnrunJobNamesModel(links: DashboardLinks) {
  return { deferred: `${links.workers()}#bj-unrun-job-names` };
}

/**
 * The card "Due rows no live worker runs" (overview, workers page): each application and job name JSON-quoted, as the
 * worker's log writes them (a trailing space shows), with a link to its waiting rows. Undefined
 * (no section) when every due row has a live worker that runs it.
 */
export function unrunJobNamesModel(unrun: UnrunJobNames, links: DashboardLinks) {
  if (unrun.liveWorkers === 0) return { noWorker: true, liveSeconds: Math.round(WORKER_HEARTBEAT_LIVE_MS / 1000) };
  if (unrun.jobNamesNoWorkerRuns.length === 0) return undefined;
  return {
    noWorker: false,
    rows: unrun.jobNamesNoWorkerRuns.map(({ applicationName, jobName, count }) => ({
      applicationName: applicationName === null ? '(none)' : JSON.stringify(applicationName),
      jobName: JSON.stringify(jobName),
      count: formatCount(count, false),
      href: links.state(
        'waiting',
        applicationName === null ? { jobName, noApplication: true } : { jobName, applicationName },
      ),
    })),
  };
}

export function listModel(
  state: JobState,
  page: JobListPage,
  filters: ListFilters,
  after: string | undefined,
  links: DashboardLinks,
  now: Date,
  readOnly: boolean,
) {
  const actions = readOnly
    ? []
    : ACTIONS_BY_STATE[state].map((action) => ({ action, label: ACTION_LABELS[action].button }));
  return {
    title: `${STATE_LABELS[state].label} jobs`,
    tab: state,
    state,
    ...STATE_LABELS[state],
    filters,
    items: page.items.map((job) => ({
      id: job.id,
      href: links.job(job.id),
      jobName: job.jobName,
      applicationName: job.applicationName,
      tryCount: job.tryCount,
      priority: job.priority,
      nextTryTime: formatTime(job.nextTryTime),
      nextTryRelative: relativeTime(job.nextTryTime, now),
      creationTime: formatTime(job.creationTime),
      lastTryTime: formatTime(job.lastTryTime),
      args: oneLine(job.jobArgs),
    })),
    nextHref: page.next === null ? undefined : links.state(state, filters, page.next),
    firstHref: after === undefined ? undefined : links.state(state, filters),
    actions,
    /** Checkboxes and buttons for a selection: only where an action fits the state. */
    selectable: actions.length > 0 && page.items.length > 0,
    /** "All abandoned of job name X": on the abandoned list filtered by one job name. */
    allOfJobName: !readOnly && state === 'abandoned' && filters.jobName ? filters.jobName : undefined,
    listUrl: links.state(state),
  };
}

export function jobModel(job: JobView, links: DashboardLinks, now: Date, readOnly: boolean) {
  const args = cutText(prettyJson(job.jobArgs), SHOWN_CHARACTERS);
  const extra = cutText(prettyJson(job.extraProperties), SHOWN_CHARACTERS);
  return {
    title: `Job ${job.id}`,
    tab: job.state,
    job,
    stateLabel: STATE_LABELS[job.state].label,
    stateAbout: STATE_LABELS[job.state].about,
    listHref: links.state(job.state),
    columns: [
      ['Id', job.id],
      ['ApplicationName', job.applicationName ?? '(none)'],
      ['JobName', job.jobName],
      ['TryCount', String(job.tryCount)],
      ['CreationTime', formatTime(job.creationTime)],
      ['NextTryTime', `${formatTime(job.nextTryTime)} (${relativeTime(job.nextTryTime, now)})`],
      ['LastTryTime', formatTime(job.lastTryTime)],
      ['IsAbandoned', String(job.isAbandoned)],
      ['Priority', `${job.priority}${PRIORITY_NAMES[job.priority] ? ` (${PRIORITY_NAMES[job.priority]})` : ''}`],
      ['CompletionTime', formatTime(job.completionTime)],
      ['ConcurrencyStamp', job.concurrencyStamp],
    ].map(([name, value]) => ({ name, value })),
    args,
    argsHref: `${links.job(job.id)}/args`,
    lastError: lastErrorOf(job.extraProperties),
    result: resultOf(job.extraProperties),
    extra,
    actions: (readOnly ? [] : ACTIONS_BY_STATE[job.state]).map((action: JobAction) => ({
      action,
      label: ACTION_LABELS[action].button,
      danger: action === 'delete',
    })),
    /** Cancel (IBackgroundJobManager.cancel): a job not finished yet; a running one is aborted by its worker. */
    cancelHref: !readOnly && CANCELLABLE_STATES.includes(job.state) ? `${links.job(job.id)}/cancel` : undefined,
    held: job.state === 'processing',
  };
}

export function workersModel(workers: WorkerInfo[], now: Date) {
  return {
    title: 'Workers',
    tab: 'workers',
    workers: workers.map((worker) => ({
      ...worker,
      applicationName: worker.applicationName ?? '(none)',
      jobNames: worker.jobNames.length ? worker.jobNames.join(', ') : 'all registered',
      startedAt: formatTime(worker.startedAt),
      startedRelative: relativeTime(worker.startedAt, now),
      lastHeartbeat: formatTime(worker.lastHeartbeat),
      lastHeartbeatRelative: relativeTime(worker.lastHeartbeat, now),
    })),
  };
}

/**
 * What the job returned, as StoreSuccessfulJobs keeps it (`ExtraProperties.Result`, indented; the
 * worker caps it at 64 K and says so in `ResultNote`); undefined when the row has neither.
 */
export function resultOf(extraProperties: string): { text?: string; note?: string } | undefined {
  const bag = bagOf(extraProperties);
  if (!bag || !('Result' in bag || typeof bag.ResultNote === 'string')) return undefined;
  const text =
    'Result' in bag ? cutText(JSON.stringify(bag.Result, null, 2) ?? 'null', SHOWN_CHARACTERS).text : undefined;
  return { text, note: typeof bag.ResultNote === 'string' ? bag.ResultNote : undefined };
}

function bagOf(extraProperties: string): Record<string, unknown> | undefined {
  try {
    const bag: unknown = JSON.parse(extraProperties);
    return bag !== null && typeof bag === 'object' && !Array.isArray(bag)
      ? (bag as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The last failure the worker recorded in ExtraProperties (worker/last-error.ts): message, stack, time. */
export function lastErrorOf(extraProperties: string) {
  let bag: unknown;
  try {
    bag = JSON.parse(extraProperties);
  } catch {
    return undefined;
  }
  if (bag === null || typeof bag !== 'object') return undefined;
  const { LastError, LastErrorTime, LastErrorTryCount } = bag as Record<string, unknown>;
  if (typeof LastError !== 'string') return undefined;
  const newline = LastError.indexOf('\n');
  return {
    message: newline < 0 ? LastError : LastError.slice(0, newline),
    stack: newline < 0 ? undefined : LastError.slice(newline + 1),
    time: typeof LastErrorTime === 'string' ? formatTime(LastErrorTime) : undefined,
    tryCount: typeof LastErrorTryCount === 'number' ? LastErrorTryCount : undefined,
  };
}

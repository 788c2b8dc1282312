import type { BackgroundJobRecord } from '../store/background-job-record';
import type { StateCount } from '../store/job-admin-store';
import type { JobState, JobStats, JobView, StateCounts } from './background-jobs-admin.types';

/** What the service returns, made from what the store returns: totals and per job name, and rows in camelCase with ISO times. */

/** Totals and per job name; `succeeded` null in all of them when succeeded rows are not kept. */
export function statsOf(counts: StateCount[], succeededKept: boolean): JobStats {
  const totals = emptyCounts(succeededKept);
  const byJobName: Record<string, StateCounts> = {};
  for (const { jobName, state, count } of counts) {
    const forName = (byJobName[jobName] ??= emptyCounts(succeededKept));
    forName[state] = (forName[state] ?? 0) + count;
    totals[state] = (totals[state] ?? 0) + count;
  }
  return { ...totals, byJobName: sortedByName(byJobName), estimated: counts.some((c) => c.estimated) };
}

function emptyCounts(succeededKept: boolean): StateCounts {
  return { waiting: 0, scheduled: 0, retrying: 0, processing: 0, abandoned: 0, succeeded: succeededKept ? 0 : null };
}

function sortedByName(byJobName: Record<string, StateCounts>): Record<string, StateCounts> {
  return Object.fromEntries(Object.entries(byJobName).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function viewOf(record: BackgroundJobRecord, state: JobState): JobView {
  const time = (date: Date | null) => date && date.toISOString();
  return {
    id: record.id,
    applicationName: record.applicationName,
    jobName: record.jobName,
    jobArgs: record.jobArgs,
    tryCount: record.tryCount,
    creationTime: record.creationTime.toISOString(),
    nextTryTime: record.nextTryTime.toISOString(),
    lastTryTime: time(record.lastTryTime),
    isAbandoned: record.isAbandoned,
    priority: record.priority,
    completionTime: time(record.completionTime),
    extraProperties: record.extraProperties,
    concurrencyStamp: record.concurrencyStamp,
    state,
  };
}

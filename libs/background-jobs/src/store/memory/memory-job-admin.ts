import { isHeld, stateOf } from '../../admin/job-states';
import type { BackgroundJobRecord } from '../background-job-record';
import {
  AdminListRequest,
  HistoryCount,
  JobAdminStore,
  JobStateRow,
  LIST_ORDER,
  ListedJob,
  LISTED_ARGS_LENGTH,
  RequeueUpdate,
  StateCount,
} from '../job-admin-store';
import { fromUtcText, toUtcText } from '../sql-time';

/** The in-memory store's rows, by lower-case id, and its outage switch: shared with MemoryBackgroundJobStore. */
export interface MemoryRows {
  rows: Map<string, BackgroundJobRecord>;
  assertAvailable(): void;
  copy(row: BackgroundJobRecord): BackgroundJobRecord;
}

const MINUTE = 60_000;

/** JobAdminStore over the in-memory rows: the same rules as the SQL dialects, counts always exact. */
export class MemoryJobAdminStore implements JobAdminStore {
  constructor(private readonly memory: MemoryRows) {}

  async countStates(now: Date): Promise<StateCount[]> {
    this.memory.assertAvailable();
    const counts = new Map<string, StateCount>();
    for (const row of this.memory.rows.values()) {
      const state = stateOf(row, now);
      const key = `${state}\n${row.jobName}`;
      const count = counts.get(key) ?? { jobName: row.jobName, state, count: 0, estimated: false };
      count.count++;
      counts.set(key, count);
    }
    return [...counts.values()];
  }

  async list(request: AdminListRequest): Promise<ListedJob[]> {
    this.memory.assertAvailable();
    const { column, descending } = LIST_ORDER[request.state];
    const sortTime = (row: BackgroundJobRecord) => sortDate(row, column).getTime();
    const direction = descending ? -1 : 1;
    const compare = (time: number, id: string, other: BackgroundJobRecord) =>
      direction * (time - sortTime(other) || (id < other.id ? -1 : id > other.id ? 1 : 0));
    const after = request.after && {
      time: fromUtcText(request.after.time)!.getTime(),
      id: request.after.id.toLowerCase(),
    };
    return [...this.memory.rows.values()]
      .filter(
        (row) =>
          stateOf(row, request.now) === request.state &&
          (request.jobName === undefined || row.jobName === request.jobName) &&
          (request.applicationName === undefined || row.applicationName === request.applicationName) &&
          (!after || compare(after.time, after.id, row) < 0),
      )
      .sort((a, b) => compare(sortTime(a), a.id, b))
      .slice(0, request.limit)
      .map((row) => ({
        record: { ...this.memory.copy(row), jobArgs: row.jobArgs.slice(0, LISTED_ARGS_LENGTH) },
        position: { time: toUtcText(sortDate(row, column)), id: row.id },
        jobArgsTruncated: row.jobArgs.length > LISTED_ARGS_LENGTH,
      }));
  }

  async read(ids: string[]): Promise<JobStateRow[]> {
    this.memory.assertAvailable();
    const found: JobStateRow[] = [];
    for (const id of new Set(ids.map((i) => i.toLowerCase()))) {
      const row = this.memory.rows.get(id);
      if (row) found.push(this.memory.copy(row));
    }
    return found;
  }

  async requeue(updates: RequeueUpdate[], now: Date): Promise<string[]> {
    this.memory.assertAvailable();
    const done: string[] = [];
    for (const update of updates) {
      const row = this.memory.rows.get(update.id.toLowerCase());
      if (!row || row.concurrencyStamp !== update.expectedStamp || isHeld(row, now)) continue;
      const state = stateOf(row, now);
      if (state !== 'abandoned' && state !== 'retrying') continue;
      row.nextTryTime = new Date(now.getTime());
      row.isAbandoned = false;
      row.tryCount = 0;
      row.extraProperties = update.extraProperties;
      row.concurrencyStamp = update.newStamp;
      done.push(row.id);
    }
    return done;
  }

  async runNow(ids: string[], now: Date, newStamp: string): Promise<string[]> {
    this.memory.assertAvailable();
    const done: string[] = [];
    for (const row of this.rowsOf(ids)) {
      if (stateOf(row, now) !== 'scheduled') continue;
      row.nextTryTime = new Date(now.getTime());
      row.concurrencyStamp = newStamp;
      done.push(row.id);
    }
    return done;
  }

  async delete(ids: string[], now: Date): Promise<string[]> {
    this.memory.assertAvailable();
    const done: string[] = [];
    for (const row of this.rowsOf(ids)) {
      if (isHeld(row, now)) continue;
      this.memory.rows.delete(row.id);
      done.push(row.id);
    }
    return done;
  }

  async history(since: Date, now: Date): Promise<HistoryCount[]> {
    this.memory.assertAvailable();
    const minutes = new Map<number, HistoryCount>();
    const add = (time: Date, kind: 'succeeded' | 'failed') => {
      if (time.getTime() < since.getTime()) return;
      const minute = Math.floor(time.getTime() / MINUTE) * MINUTE;
      const point = minutes.get(minute) ?? { minute: new Date(minute), succeeded: 0, failed: 0 };
      point[kind]++;
      minutes.set(minute, point);
    };
    for (const row of this.memory.rows.values()) {
      if (row.completionTime) add(row.completionTime, 'succeeded');
      else if (row.lastTryTime && (row.isAbandoned || row.tryCount >= 1) && !isHeld(row, now))
        add(row.lastTryTime, 'failed');
    }
    return [...minutes.values()].sort((a, b) => a.minute.getTime() - b.minute.getTime());
  }

  private rowsOf(ids: string[]): BackgroundJobRecord[] {
    return [...new Set(ids.map((i) => i.toLowerCase()))]
      .map((id) => this.memory.rows.get(id))
      .filter((row): row is BackgroundJobRecord => row !== undefined);
  }
}

function sortDate(row: BackgroundJobRecord, column: 'NextTryTime' | 'CreationTime' | 'CompletionTime'): Date {
  return column === 'NextTryTime'
    ? row.nextTryTime
    : column === 'CreationTime'
      ? row.creationTime
      : row.completionTime!;
}

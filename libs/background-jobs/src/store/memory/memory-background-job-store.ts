import {
  BackgroundJobRecord,
  ClaimedJob,
  isLeaseStamp,
  MAX_TRY_COUNT,
  sortInDequeueOrder,
} from '../background-job-record';
import {
  ApplicationJobNameCount,
  BackgroundJobStore,
  ClaimRequest,
  CompletedJobUpdate,
  EnqueueBatch,
  EnqueueKey,
  FailedJobUpdate,
  JobNameCount,
  MAX_DUE_APPLICATION_JOB_NAMES,
  MAX_DUE_JOB_NAMES,
  ReleaseRequest,
  recordsOf,
  TransactionalJobStore,
} from '../background-job-store';
import { MemoryCancellations } from './memory-cancellations';
import { MemorySchedules } from './memory-schedules';
import { MemoryUniqueJobs } from './memory-unique-jobs';
import { MemoryJobAdminStore } from './memory-job-admin';
import { TableNameOptions, TableNames } from '../table-names';
import { MemoryWorkerHeartbeats } from './memory-worker-heartbeats';

/** What every call of a MemoryBackgroundJobStore rejects with while `simulateOutage()` is on. */
export class MemoryStoreUnavailableError extends Error {
  constructor() {
    super('The in-memory job store is unavailable (simulateOutage is on)');
    this.name = 'MemoryStoreUnavailableError';
  }
}

/**
 * The store in process memory, with the semantics of the SQL dialects: claims in ABP's dequeue
 * order (Priority DESC, TryCount ASC, NextTryTime ASC) for one ApplicationName and the given job
 * names; writes that present a lease token change a row only while its ConcurrencyStamp still
 * equals it; inserts are all or none and refuse an id that exists. Every call runs to the end
 * before another starts, as one transaction would. For tests of jobs and enqueue calls without a
 * database (`BackgroundJobsModule.forRoot({ store: 'memory' })`); rows live as long as the store.
 */
export class MemoryBackgroundJobStore implements BackgroundJobStore {
  readonly dialect = 'memory' as const;
  /** By lower-case id; ids are matched in any letter case, as the SQL dialects do. */
  private readonly rows = new Map<string, BackgroundJobRecord>();
  /** Enqueue keys by lower-case id, kept after their job's row is gone. */
  private readonly keys = new Map<string, EnqueueKey & { creationTime: number }>();
  private outage = false;
  private readonly tables = { rows: this.rows, assertAvailable: () => this.assertAvailable() };
  readonly uniqueJobs = new MemoryUniqueJobs(this.tables);
  readonly schedules = new MemorySchedules(this.tables);
  readonly cancellations = new MemoryCancellations(this.tables);
  readonly admin = new MemoryJobAdminStore({ rows: this.rows, assertAvailable: () => this.assertAvailable(), copy });
  readonly heartbeats = new MemoryWorkerHeartbeats(() => this.assertAvailable());
  /** The table names a SQL store would use (checked as they are): memory keeps no tables, so it only validates them. */
  readonly names: TableNames;

  constructor(names: TableNameOptions = {}) {
    this.names = new TableNames('memory', names);
  }
  /** Names of the locks tryWithLock holds: this store is one process's, so its locks are too. */
  private readonly locks = new Set<string>();

  /** While on, every call rejects with MemoryStoreUnavailableError (isUnavailable: true), as a database that went away. */
  simulateOutage(on = true): void {
    this.outage = on;
  }

  /** Every row, in dequeue order (copies). */
  async list(): Promise<BackgroundJobRecord[]> {
    this.assertAvailable();
    return sortInDequeueOrder([...this.rows.values()].map(copy));
  }

  async migrate(): Promise<void> {
    this.assertAvailable();
  }

  async enqueue(batch: EnqueueBatch): Promise<void> {
    this.assertAvailable();
    const keys = batch.keys ?? [];
    const keyIds = new Set<string>();
    for (const key of keys) {
      const id = key.id.toLowerCase();
      if (this.keys.has(id) || keyIds.has(id))
        throw new Error(`Duplicate enqueue key ${key.id}: it was enqueued already`);
      keyIds.add(id);
    }
    await this.insert(recordsOf(batch));
    for (const key of keys) {
      this.keys.set(key.id.toLowerCase(), {
        id: key.id.toLowerCase(),
        fingerprint: key.fingerprint,
        creationTime: batch.creationTime.getTime(),
      });
    }
  }

  async insert(rows: BackgroundJobRecord[]): Promise<void> {
    this.assertAvailable();
    const ids = new Set<string>();
    for (const row of rows) {
      const id = row.id.toLowerCase();
      if (this.rows.has(id) || ids.has(id))
        throw new Error(`Duplicate job id ${row.id}: a job with this id exists already`);
      ids.add(id);
    }
    for (const row of rows) this.rows.set(row.id.toLowerCase(), { ...copy(row), id: row.id.toLowerCase() });
  }

  async claim(request: ClaimRequest): Promise<ClaimedJob[]> {
    this.assertAvailable();
    const now = request.now.getTime();
    const names = new Set(request.jobNames);
    const due: BackgroundJobRecord[] = [];
    for (const row of this.rows.values()) {
      if (
        row.applicationName === request.applicationName &&
        row.completionTime === null &&
        !row.isAbandoned &&
        row.nextTryTime.getTime() <= now &&
        names.has(row.jobName)
      ) {
        due.push(row);
      }
    }
    return sortInDequeueOrder(due)
      .slice(0, Math.max(request.limit, 0))
      .map((row) => {
        const previousLeaseExpired = isLeaseStamp(row.concurrencyStamp);
        const dueTime = new Date(row.nextTryTime.getTime());
        if (row.tryCount < MAX_TRY_COUNT) row.tryCount++;
        row.lastTryTime = new Date(now);
        row.nextTryTime = new Date(request.leaseUntil.getTime());
        row.concurrencyStamp = request.leaseToken;
        return { ...copy(row), leaseToken: request.leaseToken, previousLeaseExpired, dueTime };
      });
  }

  async complete(leaseToken: string, ids: string[]): Promise<number> {
    this.assertAvailable();
    let deleted = 0;
    for (const id of ids) {
      if (this.held(id, leaseToken) && this.rows.delete(id.toLowerCase())) deleted++;
    }
    return deleted;
  }

  async completeAndKeep(updates: CompletedJobUpdate[]): Promise<number> {
    this.assertAvailable();
    let written = 0;
    for (const update of updates) {
      const row = this.held(update.id, update.leaseToken);
      if (!row) continue;
      row.completionTime = new Date(update.completionTime.getTime());
      if (update.extraProperties !== null) row.extraProperties = update.extraProperties;
      row.concurrencyStamp = update.newStamp;
      written++;
    }
    return written;
  }

  async deleteCompletedBefore(applicationName: string | null, before: Date, limit: number): Promise<number> {
    this.assertAvailable();
    const expired = [...this.rows.values()]
      .filter(
        (row) =>
          row.applicationName === applicationName &&
          row.completionTime !== null &&
          row.completionTime.getTime() < before.getTime(),
      )
      .sort((a, b) => a.completionTime!.getTime() - b.completionTime!.getTime())
      .slice(0, Math.max(limit, 0));
    for (const row of expired) this.rows.delete(row.id);
    return expired.length;
  }

  async tryWithLock<T>(name: string, work: () => Promise<T>): Promise<{ value: T } | undefined> {
    this.assertAvailable();
    if (this.locks.has(name)) return undefined;
    this.locks.add(name);
    try {
      return { value: await work() };
    } finally {
      this.locks.delete(name);
    }
  }

  async hasCompletionTimeColumn(): Promise<boolean> {
    this.assertAvailable();
    return true;
  }

  async fail(updates: FailedJobUpdate[]): Promise<number> {
    this.assertAvailable();
    let written = 0;
    for (const update of updates) {
      const row = this.held(update.id, update.leaseToken);
      if (!row) continue;
      if (update.nextTryTime) row.nextTryTime = new Date(update.nextTryTime.getTime());
      row.isAbandoned = update.nextTryTime === null;
      row.extraProperties = update.extraProperties;
      row.concurrencyStamp = update.newStamp;
      written++;
    }
    return written;
  }

  async extendLeases(leaseToken: string, ids: string[], until: Date): Promise<number> {
    this.assertAvailable();
    let extended = 0;
    for (const id of ids) {
      const row = this.held(id, leaseToken);
      if (!row) continue;
      row.nextTryTime = new Date(until.getTime());
      extended++;
    }
    return extended;
  }

  async release(request: ReleaseRequest): Promise<number> {
    this.assertAvailable();
    let released = 0;
    for (const id of request.ids) {
      const row = this.held(id, request.leaseToken);
      if (!row) continue;
      row.nextTryTime = new Date(request.now.getTime());
      row.concurrencyStamp = request.newStamp;
      if (request.undoTry) row.tryCount = Math.max(row.tryCount - 1, 0);
      released++;
    }
    return released;
  }

  async find(id: string): Promise<BackgroundJobRecord | undefined> {
    this.assertAvailable();
    const row = this.rows.get(id.toLowerCase());
    return row && copy(row);
  }

  async count(applicationName?: string | null): Promise<number> {
    this.assertAvailable();
    if (applicationName === undefined) return this.rows.size;
    let n = 0;
    for (const row of this.rows.values()) if (row.applicationName === applicationName) n++;
    return n;
  }

  async countDueByJobName(applicationName: string | null, now: Date): Promise<JobNameCount[]> {
    return this.dueCounts(now, (row) => row.applicationName === applicationName)
      .map(({ jobName, count }) => ({ jobName, count }))
      .slice(0, MAX_DUE_JOB_NAMES);
  }

  async countDueByApplication(now: Date): Promise<ApplicationJobNameCount[]> {
    return this.dueCounts(now, () => true).slice(0, MAX_DUE_APPLICATION_JOB_NAMES);
  }

  /** The due rows `of` takes, counted per application and job name: most first, ties in binary order of the job name, then of the application's (none first). */
  private dueCounts(now: Date, of: (row: BackgroundJobRecord) => boolean): ApplicationJobNameCount[] {
    this.assertAvailable();
    const counts = new Map<string, ApplicationJobNameCount>();
    for (const row of this.rows.values()) {
      if (!of(row) || row.completionTime !== null || row.isAbandoned || row.nextTryTime.getTime() > now.getTime())
        continue;
      const key = JSON.stringify([row.applicationName, row.jobName]);
      const count = counts.get(key) ?? { applicationName: row.applicationName, jobName: row.jobName, count: 0 };
      count.count++;
      counts.set(key, count);
    }
    const bytes = (text: string) => Buffer.from(text);
    const noneFirst = (c: ApplicationJobNameCount) => (c.applicationName === null ? 0 : 1);
    return [...counts.values()].sort(
      (a, b) =>
        b.count - a.count ||
        Buffer.compare(bytes(a.jobName), bytes(b.jobName)) ||
        noneFirst(a) - noneFirst(b) ||
        Buffer.compare(bytes(a.applicationName ?? ''), bytes(b.applicationName ?? '')),
    );
  }

  async oldestDueTime(applicationName: string | null, now: Date): Promise<Date | null> {
    this.assertAvailable();
    let oldest: number | null = null;
    for (const row of this.rows.values()) {
      if (row.applicationName !== applicationName || row.completionTime !== null || row.isAbandoned) continue;
      const due = row.nextTryTime.getTime();
      if (due <= now.getTime() && (oldest === null || due < oldest)) oldest = due;
    }
    return oldest === null ? null : new Date(oldest);
  }

  async findEnqueueKeys(ids: string[]): Promise<EnqueueKey[]> {
    this.assertAvailable();
    const found: EnqueueKey[] = [];
    for (const id of new Set(ids.map((i) => i.toLowerCase()))) {
      const key = this.keys.get(id);
      if (key) found.push({ id: key.id, fingerprint: key.fingerprint });
    }
    return found;
  }

  async deleteEnqueueKeysBefore(time: Date, limit: number): Promise<number> {
    this.assertAvailable();
    const expired = [...this.keys.values()]
      .filter((key) => key.creationTime < time.getTime())
      .sort((a, b) => a.creationTime - b.creationTime)
      .slice(0, Math.max(limit, 0));
    for (const key of expired) this.keys.delete(key.id);
    return expired.length;
  }

  async ping(): Promise<void> {
    this.assertAvailable();
  }

  isUnavailable(error: unknown): boolean {
    return error instanceof MemoryStoreUnavailableError;
  }

  /** The in-memory store has no transactions to join. */
  withinTransaction(): TransactionalJobStore {
    throw new Error(
      'The in-memory job store cannot enqueue in a transaction (entityManager): it has no database; enqueue without it',
    );
  }

  private held(id: string, leaseToken: string): BackgroundJobRecord | undefined {
    const row = this.rows.get(id.toLowerCase());
    return row?.concurrencyStamp === leaseToken ? row : undefined;
  }

  private assertAvailable(): void {
    if (this.outage) throw new MemoryStoreUnavailableError();
  }
}

/** Rows go in and out as copies, so a caller's later change to its object never reaches the store. */
function copy(row: BackgroundJobRecord): BackgroundJobRecord {
  return {
    id: row.id,
    applicationName: row.applicationName,
    jobName: row.jobName,
    jobArgs: row.jobArgs,
    tryCount: row.tryCount,
    creationTime: new Date(row.creationTime.getTime()),
    nextTryTime: new Date(row.nextTryTime.getTime()),
    lastTryTime: row.lastTryTime && new Date(row.lastTryTime.getTime()),
    isAbandoned: row.isAbandoned,
    priority: row.priority,
    completionTime: row.completionTime && new Date(row.completionTime.getTime()),
    extraProperties: row.extraProperties,
    concurrencyStamp: row.concurrencyStamp,
  };
}

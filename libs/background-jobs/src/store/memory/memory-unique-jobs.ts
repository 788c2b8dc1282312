import type { BackgroundJobRecord } from '../background-job-record';
import { isFinished, isHeldAt } from '../row-state';
import type { UniqueJobReplacement, UniqueJobStore } from '../unique-job-store';
import { copyRecord, insertIfAbsent, MemoryJobTables } from './memory-job-tables';

/** Unique jobs' writes on the in-memory store's rows, with the SQL dialects' semantics. */
export class MemoryUniqueJobs implements UniqueJobStore {
  constructor(private readonly tables: MemoryJobTables) {}

  async current(id: string): Promise<BackgroundJobRecord | undefined> {
    this.tables.assertAvailable();
    const row = this.tables.rows.get(id.toLowerCase());
    return row && copyRecord(row);
  }

  async insertIfAbsent(row: BackgroundJobRecord): Promise<boolean> {
    this.tables.assertAvailable();
    return insertIfAbsent(this.tables, row);
  }

  async moveFinished(id: string, newId: string): Promise<boolean> {
    this.tables.assertAvailable();
    const row = this.tables.rows.get(id.toLowerCase());
    const target = newId.toLowerCase();
    if (!row || !isFinished(row) || this.tables.rows.has(target)) return false;
    this.tables.rows.delete(id.toLowerCase());
    this.tables.rows.set(target, { ...row, id: target });
    return true;
  }

  async replaceWaiting(replacement: UniqueJobReplacement, now: Date): Promise<boolean> {
    this.tables.assertAvailable();
    const row = this.tables.rows.get(replacement.id.toLowerCase());
    if (!row || isFinished(row) || isHeldAt(row, now)) return false;
    row.jobArgs = replacement.jobArgs;
    row.priority = replacement.priority;
    row.nextTryTime = new Date(replacement.nextTryTime.getTime());
    row.concurrencyStamp = replacement.newStamp;
    return true;
  }
}

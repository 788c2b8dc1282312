import type { CancellationRequest, JobCancellationStore, WaitingJobCancellation } from '../job-cancellation-store';
import { isFinished, isHeldAt } from '../row-state';
import type { MemoryJobTables } from './memory-job-tables';

/** Cancel's writes and requests on the in-memory store. */
export class MemoryCancellations implements JobCancellationStore {
  private readonly requests = new Map<string, CancellationRequest>();

  constructor(private readonly tables: MemoryJobTables) {}

  async abandonWaiting(cancellation: WaitingJobCancellation, now: Date): Promise<boolean> {
    this.tables.assertAvailable();
    const row = this.tables.rows.get(cancellation.id.toLowerCase());
    if (!row || isFinished(row) || isHeldAt(row, now) || row.concurrencyStamp !== cancellation.expectedStamp)
      return false;
    row.isAbandoned = true;
    row.extraProperties = cancellation.extraProperties;
    row.concurrencyStamp = cancellation.newStamp;
    return true;
  }

  async request(request: CancellationRequest): Promise<void> {
    this.tables.assertAvailable();
    const id = request.id.toLowerCase();
    this.requests.set(id, { ...request, id, jobCreationTime: new Date(request.jobCreationTime.getTime()) });
  }

  async findRequests(ids: string[]): Promise<CancellationRequest[]> {
    this.tables.assertAvailable();
    const found: CancellationRequest[] = [];
    for (const id of new Set(ids.map((i) => i.toLowerCase()))) {
      const request = this.requests.get(id);
      if (request) found.push({ ...request, jobCreationTime: new Date(request.jobCreationTime.getTime()) });
    }
    return found;
  }

  async deleteRequests(ids: string[]): Promise<void> {
    this.tables.assertAvailable();
    for (const id of ids) this.requests.delete(id.toLowerCase());
  }

  async deleteSettledRequests(limit: number): Promise<number> {
    this.tables.assertAvailable();
    let deleted = 0;
    for (const id of [...this.requests.keys()]) {
      if (deleted >= limit) break;
      const row = this.tables.rows.get(id);
      if (row && !isFinished(row)) continue;
      this.requests.delete(id);
      deleted++;
    }
    return deleted;
  }
}

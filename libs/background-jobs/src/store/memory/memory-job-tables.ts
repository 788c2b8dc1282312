import type { BackgroundJobRecord } from '../background-job-record';

/** What the in-memory store's parts share: its job rows (by lower-case id), and its outage switch. */
export interface MemoryJobTables {
  readonly rows: Map<string, BackgroundJobRecord>;
  assertAvailable(): void;
}

/** Rows go in and out as copies, so a caller's later change to its object never reaches the store. */
export function copyRecord(row: BackgroundJobRecord): BackgroundJobRecord {
  return {
    ...row,
    creationTime: new Date(row.creationTime.getTime()),
    nextTryTime: new Date(row.nextTryTime.getTime()),
    lastTryTime: row.lastTryTime && new Date(row.lastTryTime.getTime()),
    completionTime: row.completionTime && new Date(row.completionTime.getTime()),
  };
}

/** Writes a copy of the row under its lower-case id unless one is there; true when it wrote. */
export function insertIfAbsent(tables: MemoryJobTables, row: BackgroundJobRecord): boolean {
  const id = row.id.toLowerCase();
  if (tables.rows.has(id)) return false;
  tables.rows.set(id, { ...copyRecord(row), id });
  return true;
}

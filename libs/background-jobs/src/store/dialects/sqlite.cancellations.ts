import type { CancellationRequest, JobCancellationStore, WaitingJobCancellation } from '../job-cancellation-store';
import { fromUtcText, toUtcText } from '../sql-time';
import { perShape, TableShape, TableShapeCache } from '../table-shape';
import { LEASE_STAMP_LIKE } from './dialect-helpers';
import { sqliteLiveRows } from './sqlite.admin';
import { sqliteIdCases, SqliteStatements } from './sqlite-statements';

/** Ours, beside ABP's: the requests to cancel held jobs; ids upper case and times UTC text, as in AbpBackgroundJobs. */
export const SQLITE_CANCELLATIONS_MIGRATION = [
  `CREATE TABLE IF NOT EXISTS "AbpBackgroundJobCancellations" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_AbpBackgroundJobCancellations" PRIMARY KEY,
    "JobCreationTime" TEXT NOT NULL,
    "RequestedBy" TEXT NULL,
    "CreationTime" TEXT NOT NULL
  )`,
];

/** The statements on AbpBackgroundJobs for a table of this shape, built once per shape (see table-shape.ts). */
const statementsFor = perShape((shape: TableShape) => ({
  ABANDON_WAITING: `UPDATE "AbpBackgroundJobs" SET "IsAbandoned" = 1, "ExtraProperties" = ?, "ConcurrencyStamp" = ?
  WHERE "Id" IN (?, ?) AND "ConcurrencyStamp" = ? AND ${sqliteLiveRows(shape)}
    AND NOT ("ConcurrencyStamp" LIKE '${LEASE_STAMP_LIKE}' AND "NextTryTime" > ?)`,
  /** A job row written in lower case by an older version is found too. */
  DELETE_SETTLED: `DELETE FROM "AbpBackgroundJobCancellations" WHERE "Id" IN (
  SELECT request."Id" FROM "AbpBackgroundJobCancellations" AS request
  LEFT JOIN "AbpBackgroundJobs" AS job ON job."Id" IN (request."Id", lower(request."Id"))
  WHERE job."Id" IS NULL OR ${shape.completionTime ? 'job."CompletionTime" IS NOT NULL OR ' : ''}job."IsAbandoned" = 1
  LIMIT ?)`,
}));

const REQUEST = `INSERT INTO "AbpBackgroundJobCancellations" ("Id", "JobCreationTime", "RequestedBy", "CreationTime")
  VALUES (?, ?, ?, ?)
  ON CONFLICT ("Id") DO UPDATE SET "JobCreationTime" = excluded."JobCreationTime", "RequestedBy" = excluded."RequestedBy",
    "CreationTime" = excluded."CreationTime"`;

const IN_IDS = `"Id" IN (SELECT value FROM json_each(?))`;
const FIND_REQUESTS = `SELECT "Id", "JobCreationTime", "RequestedBy" FROM "AbpBackgroundJobCancellations" WHERE ${IN_IDS}`;
const DELETE_REQUESTS = `DELETE FROM "AbpBackgroundJobCancellations" WHERE ${IN_IDS}`;
export class SqliteCancellations implements JobCancellationStore {
  constructor(
    private readonly statements: SqliteStatements,
    private readonly table: TableShapeCache,
  ) {}

  async abandonWaiting(c: WaitingJobCancellation, now: Date): Promise<boolean> {
    const { ABANDON_WAITING } = statementsFor(await this.table.shape());
    return (
      this.statements
        .get(ABANDON_WAITING)
        .run(c.extraProperties, c.newStamp, ...sqliteIdCases(c.id), c.expectedStamp, toUtcText(now)).changes === 1
    );
  }

  async request(request: CancellationRequest, now: Date): Promise<void> {
    this.statements
      .get(REQUEST)
      .run(request.id.toUpperCase(), toUtcText(request.jobCreationTime), request.requestedBy, toUtcText(now));
  }

  /** Requests are written in upper case only (the table is ours), so lookups need no second case. */
  async findRequests(ids: string[]): Promise<CancellationRequest[]> {
    if (ids.length === 0) return [];
    const rows = this.statements.get(FIND_REQUESTS).all(upperCaseList(ids)) as Array<{
      Id: string;
      JobCreationTime: string;
      RequestedBy: string | null;
    }>;
    return rows.map((r) => ({
      id: r.Id.toLowerCase(),
      jobCreationTime: fromUtcText(r.JobCreationTime)!,
      requestedBy: r.RequestedBy,
    }));
  }

  async deleteRequests(ids: string[]): Promise<void> {
    if (ids.length > 0) this.statements.get(DELETE_REQUESTS).run(upperCaseList(ids));
  }

  async deleteSettledRequests(limit: number): Promise<number> {
    const { DELETE_SETTLED } = statementsFor(await this.table.shape());
    return this.statements.get(DELETE_SETTLED).run(limit).changes;
  }
}

function upperCaseList(ids: string[]): string {
  return JSON.stringify(ids.map((id) => id.toUpperCase()));
}

import { BackgroundJobRecord, recordFromRow } from '../background-job-record';
import { toUtcText } from '../sql-time';
import type { UniqueJobReplacement, UniqueJobStore } from '../unique-job-store';
import { LEASE_STAMP_LIKE } from './dialect-helpers';
import { sqliteIdCases, SqliteStatements } from './sqlite-statements';

/** ON CONFLICT DO NOTHING: only a taken id is passed over; any other error still fails the statement. */
const INSERT_IF_ABSENT = `INSERT INTO "AbpBackgroundJobs" ("Id", "ApplicationName", "JobName", "JobArgs", "TryCount", "CreationTime",
  "NextTryTime", "LastTryTime", "IsAbandoned", "Priority", "CompletionTime", "ExtraProperties", "ConcurrencyStamp")
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`;

const CURRENT = `SELECT * FROM "AbpBackgroundJobs" WHERE "Id" IN (?, ?)`;

const MOVE_FINISHED = `UPDATE "AbpBackgroundJobs" SET "Id" = ?
  WHERE "Id" IN (?, ?) AND ("CompletionTime" IS NOT NULL OR "IsAbandoned" = 1)`;

const REPLACE_WAITING = `UPDATE "AbpBackgroundJobs" SET "JobArgs" = ?, "Priority" = ?, "NextTryTime" = ?, "ConcurrencyStamp" = ?
  WHERE "Id" IN (?, ?) AND "CompletionTime" IS NULL AND "IsAbandoned" = 0
    AND NOT ("ConcurrencyStamp" LIKE '${LEASE_STAMP_LIKE}' AND "NextTryTime" > ?)`;

/** Writes the row (id in upper case) unless a row has its id; true when it did. For schedules' runs too. */
export function insertJobIfAbsent(statements: SqliteStatements, r: BackgroundJobRecord): boolean {
  const time = (value: Date | null) => value && toUtcText(value);
  return (
    statements
      .get(INSERT_IF_ABSENT)
      .run(
        r.id.toUpperCase(),
        r.applicationName,
        r.jobName,
        r.jobArgs,
        r.tryCount,
        time(r.creationTime),
        time(r.nextTryTime),
        time(r.lastTryTime),
        r.isAbandoned ? 1 : 0,
        r.priority,
        time(r.completionTime),
        r.extraProperties,
        r.concurrencyStamp,
      ).changes === 1
  );
}

/** Unique jobs on SQLite: each write is one statement, atomic under SQLite's single writer. */
export class SqliteUniqueJobs implements UniqueJobStore {
  constructor(private readonly statements: SqliteStatements) {}

  async current(id: string): Promise<BackgroundJobRecord | undefined> {
    const row = this.statements.get(CURRENT).get(...sqliteIdCases(id)) as Record<string, unknown> | undefined;
    return row && recordFromRow(row);
  }

  async insertIfAbsent(row: BackgroundJobRecord): Promise<boolean> {
    return insertJobIfAbsent(this.statements, row);
  }

  async moveFinished(id: string, newId: string): Promise<boolean> {
    return this.statements.get(MOVE_FINISHED).run(newId.toUpperCase(), ...sqliteIdCases(id)).changes === 1;
  }

  async replaceWaiting(r: UniqueJobReplacement, now: Date): Promise<boolean> {
    return (
      this.statements
        .get(REPLACE_WAITING)
        .run(r.jobArgs, r.priority, toUtcText(r.nextTryTime), r.newStamp, ...sqliteIdCases(r.id), toUtcText(now))
        .changes === 1
    );
  }
}

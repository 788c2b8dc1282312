import { BackgroundJobRecord, recordFromRow } from '../background-job-record';
import { toUtcText } from '../sql-time';
import type { UniqueJobReplacement, UniqueJobStore } from '../unique-job-store';
import {
  AbpColumn,
  NO_COMPLETION_TIME,
  perShape,
  recordField,
  TableShape,
  TableShapeCache,
  tableColumns,
} from '../table-shape';
import { LEASE_STAMP_LIKE } from './dialect-helpers';
import { sqliteLiveRows } from './sqlite.admin';
import { sqliteIdCases, SqliteStatements } from './sqlite-statements';

/** The statements for a table of this shape, built once per shape (see table-shape.ts). */
const statementsFor = perShape((shape: TableShape) => {
  const columns = tableColumns(shape);
  const live = sqliteLiveRows(shape);
  const finished = shape.completionTime ? '("CompletionTime" IS NOT NULL OR "IsAbandoned" = 1)' : '"IsAbandoned" = 1';
  return {
    ...shape,
    columns,
    /** ON CONFLICT DO NOTHING: only a taken id is passed over; any other error still fails the statement. Only the table's columns. */
    INSERT_IF_ABSENT: `INSERT INTO "AbpBackgroundJobs" (${columns.map((c) => `"${c}"`).join(', ')})
  VALUES (${columns.map(() => '?').join(', ')}) ON CONFLICT DO NOTHING`,
    MOVE_FINISHED: `UPDATE "AbpBackgroundJobs" SET "Id" = ? WHERE "Id" IN (?, ?) AND ${finished}`,
    REPLACE_WAITING: `UPDATE "AbpBackgroundJobs" SET "JobArgs" = ?, "Priority" = ?, "NextTryTime" = ?, "ConcurrencyStamp" = ?
  WHERE "Id" IN (?, ?) AND ${live}
    AND NOT ("ConcurrencyStamp" LIKE '${LEASE_STAMP_LIKE}' AND "NextTryTime" > ?)`,
  };
});

const CURRENT = `SELECT * FROM "AbpBackgroundJobs" WHERE "Id" IN (?, ?)`;

/** Writes the row (id in upper case) unless a row has its id; true when it did. For schedules' runs too. */
export function insertJobIfAbsent(statements: SqliteStatements, shape: TableShape, r: BackgroundJobRecord): boolean {
  const { INSERT_IF_ABSENT, columns, completionTime } = statementsFor(shape);
  if (!completionTime && r.completionTime !== null) throw new Error(NO_COMPLETION_TIME);
  const value = (column: AbpColumn) => {
    const v = r[recordField(column)];
    if (column === 'Id') return r.id.toUpperCase();
    if (column === 'IsAbandoned') return r.isAbandoned ? 1 : 0;
    return v instanceof Date ? toUtcText(v) : v;
  };
  return statements.get(INSERT_IF_ABSENT).run(...columns.map(value)).changes === 1;
}

/** Unique jobs on SQLite: each write is one statement, atomic under SQLite's single writer. */
export class SqliteUniqueJobs implements UniqueJobStore {
  constructor(
    private readonly statements: SqliteStatements,
    private readonly table: TableShapeCache,
  ) {}

  async current(id: string): Promise<BackgroundJobRecord | undefined> {
    const row = this.statements.get(CURRENT).get(...sqliteIdCases(id)) as Record<string, unknown> | undefined;
    return row && recordFromRow(row);
  }

  async insertIfAbsent(row: BackgroundJobRecord): Promise<boolean> {
    return insertJobIfAbsent(this.statements, await this.table.shape(), row);
  }

  async moveFinished(id: string, newId: string): Promise<boolean> {
    const { MOVE_FINISHED } = statementsFor(await this.table.shape());
    return this.statements.get(MOVE_FINISHED).run(newId.toUpperCase(), ...sqliteIdCases(id)).changes === 1;
  }

  async replaceWaiting(r: UniqueJobReplacement, now: Date): Promise<boolean> {
    const { REPLACE_WAITING } = statementsFor(await this.table.shape());
    return (
      this.statements
        .get(REPLACE_WAITING)
        .run(r.jobArgs, r.priority, toUtcText(r.nextTryTime), r.newStamp, ...sqliteIdCases(r.id), toUtcText(now))
        .changes === 1
    );
  }
}

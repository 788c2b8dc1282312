import { Logger } from '@nestjs/common';
import type { BackgroundJobRecord } from './background-job-record';

/**
 * Which of ABP's later columns the AbpBackgroundJobs table has. An ABP app that shares the table
 * runs its own EF Core migrations when it upgrades, so the rule is: this module creates what ABP's
 * newest migrations create (a fresh table is ABP 10.6's, with ABP's index), and on a table ABP made
 * it adds only objects with names of its own. It never adds ApplicationName (ABP 9.2) or
 * CompletionTime (ABP 10.6) to a table that lacks them: ABP's own migrations AddColumn them later,
 * and would fail on a column that exists. Each dialect builds its statements for the shape of the
 * table it finds, once per shape (perShape), and never names a column the table lacks.
 */
export interface TableShape {
  /** ABP 9.2's column. Without it every row counts as every application's: no ApplicationName filter, as in ABP 9.1. */
  readonly applicationName: boolean;
  /** ABP 10.6's column. Without it no row is kept as succeeded, and StoreSuccessfulJobs is unavailable. */
  readonly completionTime: boolean;
}

/** ABP's columns a table may lack, each added by a later ABP migration. */
export const OPTIONAL_ABP_COLUMNS = ['ApplicationName', 'CompletionTime'] as const;

/** The table this module creates: ABP 10.6's. */
export const ABP_TABLE_SHAPE: TableShape = { applicationName: true, completionTime: true };

/** ABP 10.6's columns, in the order this module's CREATE TABLE lists them. */
export const ABP_COLUMNS = [
  'Id',
  'ApplicationName',
  'JobName',
  'JobArgs',
  'TryCount',
  'CreationTime',
  'NextTryTime',
  'LastTryTime',
  'IsAbandoned',
  'Priority',
  'CompletionTime',
  'ExtraProperties',
  'ConcurrencyStamp',
] as const;
export type AbpColumn = (typeof ABP_COLUMNS)[number];

/** The columns a table of this shape has, in ABP_COLUMNS' order. */
export function tableColumns(shape: TableShape): AbpColumn[] {
  return ABP_COLUMNS.filter(
    (c) => (c !== 'ApplicationName' || shape.applicationName) && (c !== 'CompletionTime' || shape.completionTime),
  );
}

/** A column's field in a BackgroundJobRecord ('ApplicationName' -> 'applicationName'). */
export function recordField(column: AbpColumn): keyof BackgroundJobRecord {
  return `${column[0].toLowerCase()}${column.slice(1)}` as keyof BackgroundJobRecord;
}

/** What a store says when asked to keep a completed row in a table without CompletionTime. */
export const NO_COMPLETION_TIME =
  'AbpBackgroundJobs has no CompletionTime column (a table made by ABP before 10.6): rows cannot be kept as ' +
  "succeeded until ABP's own 10.6 migration adds it (this module adds none of ABP's columns)";

/** A short tag for a shape other than ABP 10.6's ('' for it): prepared statements' names carry it. */
export function shapeTag(shape: TableShape): string {
  return shape.applicationName && shape.completionTime
    ? ''
    : `_${shape.applicationName ? 'a' : 'x'}${shape.completionTime ? 'c' : 'x'}`;
}

/** The shape of a table with these columns. */
export function shapeOf(columns: Iterable<string>): TableShape {
  const names = new Set(columns);
  return { applicationName: names.has('ApplicationName'), completionTime: names.has('CompletionTime') };
}

/** `build` run once per shape and kept: a dialect's statements for a table of that shape. */
export function perShape<T>(build: (shape: TableShape) => T): (shape: TableShape) => T {
  const built = new Map<string, T>();
  return (shape) => {
    const key = `${shape.applicationName}/${shape.completionTime}`;
    let value = built.get(key);
    if (value === undefined) built.set(key, (value = build(shape)));
    return value;
  };
}

/**
 * One store's knowledge of its table's shape: what migrate() found under its lock, or, without a
 * migration (Database__AutoMigrate=false), what the catalog says at the first statement that needs
 * it. Kept for the store's life: a column ABP's migration adds later is used after a restart. Not
 * kept while the table does not exist (the statements then fail as on any missing table, and the
 * next one looks again). Says once, per store, what a missing column means.
 */
export class TableShapeCache {
  private known?: TableShape;
  private reading?: Promise<TableShape>;
  private readonly logger = new Logger('BackgroundJobsSchema');

  /** `read`: the table's shape from the catalog, or undefined when there is no table. */
  constructor(private readonly read: () => Promise<TableShape | undefined>) {}

  /** The shape, read once; ABP 10.6's while the table does not exist. */
  async shape(): Promise<TableShape> {
    if (this.known) return this.known;
    this.reading ??= this.read().then(
      (shape) => {
        this.reading = undefined;
        if (shape) this.learned(shape);
        return shape ?? ABP_TABLE_SHAPE;
      },
      (error: unknown) => {
        this.reading = undefined;
        throw error;
      },
    );
    return this.reading;
  }

  /** What migrate() found (or made), under its lock. */
  learned(shape: TableShape): void {
    const first = !this.known;
    this.known = shape;
    if (first) this.explain(shape);
  }

  private explain(shape: TableShape): void {
    if (!shape.applicationName)
      this.logger.warn(
        'AbpBackgroundJobs has no ApplicationName column (a table made by ABP before 9.2): jobs are claimed, counted ' +
          'and listed without the ApplicationName filter, as ABP 9.1 did, so every app on this table runs every ' +
          "app's jobs, whatever AbpBackgroundJobWorker__ApplicationName says. ABP's own 9.2 migration adds the " +
          "column (this module adds none of ABP's columns); restart the apps after it.",
      );
    if (!shape.completionTime)
      this.logger.log(
        'AbpBackgroundJobs has no CompletionTime column (a table made by ABP before 10.6): StoreSuccessfulJobs is ' +
          "unavailable until ABP's own 10.6 migration adds it; restart the apps after it.",
      );
  }
}

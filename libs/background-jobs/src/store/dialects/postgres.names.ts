import { TableShape, tableColumns } from '../table-shape';

/** Names the PostgreSQL statements share (a module of its own: the dialect's parts import it at load time). */

/** Enqueues NOTIFY here; workers LISTEN. */
export const NOTIFY_CHANNEL = 'abp_background_jobs';

/**
 * The columns a table of this shape has, quoted and listed. Named statements list their columns:
 * a prepared `SELECT *` fails with "cached plan must not change result type" once another process
 * (a newer ABP migration) adds a column to the table.
 */
export function columnList(shape: TableShape): string {
  return tableColumns(shape)
    .map((c) => `"${c}"`)
    .join(', ');
}

/**
 * A parameter a statement has no use for on a table of some shape (the application's name where
 * there is no ApplicationName column), named so that PostgreSQL knows its type: it refuses a
 * statement with a parameter it cannot type. Always true.
 */
export const unused = (n: number, type: string) => `($${n}::${type} IS NULL OR TRUE)`;

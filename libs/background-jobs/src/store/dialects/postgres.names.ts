/** Names the PostgreSQL statements share (a module of its own: the dialect's parts import it at load time). */

/** Enqueues NOTIFY here; workers LISTEN. */
export const NOTIFY_CHANNEL = 'abp_background_jobs';

/**
 * Named statements list their columns: a prepared `SELECT *` fails with "cached plan must not
 * change result type" once another process (a newer ABP migration) adds a column to the table.
 */
export const COLUMNS = `"Id", "ApplicationName", "JobName", "JobArgs", "TryCount", "CreationTime", "NextTryTime", "LastTryTime",
  "IsAbandoned", "Priority", "CompletionTime", "ExtraProperties", "ConcurrencyStamp"`;

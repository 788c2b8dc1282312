import { bagOf } from '../worker/last-error';

/** The key of ExtraProperties under which a requeue keeps the errors of the tries before it. */
export const ERROR_HISTORY_KEY = 'ErrorHistory';
/** Entries kept, oldest dropped first: with LastError at most 4,000 characters, the list stays under ~45 KB. */
export const MAX_ERROR_HISTORY = 10;

const LAST_ERROR_KEYS = ['LastError', 'LastErrorTime', 'LastErrorTryCount'] as const;

/**
 * ExtraProperties for a requeued row: the last error (LastError, LastErrorTime, LastErrorTryCount)
 * moves into the ErrorHistory list with when and by whom it was requeued, so the job starts clean
 * and what happened before stays readable. Every other key is kept as it was.
 */
export function withRequeueHistory(extraProperties: string, now: Date, requeuedBy: string): string {
  const bag = bagOf(extraProperties);
  const entry: Record<string, unknown> = {};
  for (const key of LAST_ERROR_KEYS) {
    if (key in bag) entry[key] = bag[key];
    delete bag[key];
  }
  const history = Array.isArray(bag[ERROR_HISTORY_KEY]) ? (bag[ERROR_HISTORY_KEY] as unknown[]) : [];
  if (bag[ERROR_HISTORY_KEY] !== undefined && !Array.isArray(bag[ERROR_HISTORY_KEY]))
    history.push({ Original: bag[ERROR_HISTORY_KEY] });
  history.push({ ...entry, RequeuedAt: now.toISOString(), RequeuedBy: requeuedBy });
  bag[ERROR_HISTORY_KEY] = history.slice(-MAX_ERROR_HISTORY);
  try {
    return JSON.stringify(bag);
  } catch {
    // JSON nested deeper than JSON.stringify can recurse: keep the old bag as text beside the history.
    return JSON.stringify({
      OriginalExtraProperties: String(extraProperties),
      [ERROR_HISTORY_KEY]: bag[ERROR_HISTORY_KEY],
    });
  }
}

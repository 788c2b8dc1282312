import type { ListPosition } from '../store/job-admin-store';
import { AdminInputError, JobState } from './background-jobs-admin.types';

/**
 * The `next` cursor of a list page: the state it belongs to and where the page ended (the sort
 * column's value and the Id as the database holds them), as base64url JSON. Opaque to callers; a
 * cursor that is not one of ours, or of another state's list, is refused with AdminInputError.
 */
const TIME = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,7})?$/;
const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_CURSOR_LENGTH = 200;

export function encodeCursor(state: JobState, position: ListPosition): string {
  return Buffer.from(JSON.stringify([state, position.time, position.id])).toString('base64url');
}

export function decodeCursor(cursor: string, state: JobState): ListPosition {
  const refuse = (why: string) => new AdminInputError(`Invalid cursor: ${why}`);
  if (typeof cursor !== 'string' || cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor))
    throw refuse('not a cursor of a job list');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw refuse('not a cursor of a job list');
  }
  if (!Array.isArray(parsed) || parsed.length !== 3) throw refuse('not a cursor of a job list');
  const [cursorState, time, id] = parsed as unknown[];
  if (cursorState !== state) throw refuse(`it belongs to the ${String(cursorState)} list, not to ${state}`);
  if (typeof time !== 'string' || !TIME.test(time) || typeof id !== 'string' || !ID.test(id))
    throw refuse('not a cursor of a job list');
  return { time, id };
}

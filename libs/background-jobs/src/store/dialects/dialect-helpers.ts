import { createHash } from 'node:crypto';
import { LEASE_STAMP_PREFIX } from '../background-job-record';

/**
 * What the dialects share that is not SQL: retries, chunking, transactions on a pooled
 * connection, and the scope of count(). Each dialect keeps its own statements.
 */

/**
 * A statement chosen as a deadlock victim was rolled back whole, so running it again is safe.
 * Claims skip locked rows, but a claim and a DELETE of other rows can still meet on an index page.
 */
export async function retryOnDeadlock<T>(
  work: () => Promise<T>,
  isDeadlock: (error: unknown) => boolean,
  attempts = 3,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= attempts || !isDeadlock(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5 * attempt + Math.random() * 20));
    }
  }
}

const GUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A Guid in its 36-character text form, the one form a uuid or uniqueidentifier parameter takes; any letter case. */
export function isGuidText(id: string): boolean {
  return GUID_TEXT.test(id);
}

/** Ids per statement: long IN lists and OPENJSON joins stay small, and SQL Server never escalates to a table lock. */
export const MAX_IDS_PER_STATEMENT = 1000;

export function chunk<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/** Runs `write` on the items a statement's worth at a time, one after another; returns the rows changed in all. */
export async function perChunk<T>(
  items: T[],
  write: (part: T[]) => Promise<number>,
  size = MAX_IDS_PER_STATEMENT,
): Promise<number> {
  let written = 0;
  for (const part of chunk(items, size)) written += await write(part);
  return written;
}

/** A pooled connection as pg and mysql2 hand them out. */
export interface PooledConnection {
  query(sql: string): Promise<unknown>;
  release(): void;
}

/**
 * Runs `work` in one transaction on a connection of its own: BEGIN, then COMMIT, or ROLLBACK when
 * `work` throws. `before` runs first, outside the transaction (e.g. the isolation level of the next one).
 */
export async function inTransaction<C extends PooledConnection, T>(
  connect: () => Promise<C>,
  work: (connection: C) => Promise<T>,
  before: string[] = [],
): Promise<T> {
  const connection = await connect();
  try {
    for (const sql of before) await connection.query(sql);
    await connection.query('BEGIN');
    try {
      const result = await work(connection);
      await connection.query('COMMIT');
      return result;
    } catch (error) {
      await connection.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  } finally {
    connection.release();
  }
}

/** The rows count() counts: every row (no argument), the rows of no application (null), or of one. */
export type CountScope = 'all' | 'noApplication' | 'application';

export function countScope(applicationName: string | null | undefined): CountScope {
  return applicationName === undefined ? 'all' : applicationName === null ? 'noApplication' : 'application';
}

/**
 * The LIKE pattern of a lease's ConcurrencyStamp, for claims that tell an expired lease in SQL.
 * Built from the one prefix newLeaseToken() writes; it goes into SQL text as a literal, so the
 * prefix may not hold a quote or a LIKE wildcard.
 */
export const LEASE_STAMP_LIKE = likePrefix(LEASE_STAMP_PREFIX);

function likePrefix(prefix: string): string {
  if (/['%_\\[\]]/.test(prefix))
    throw new Error(`A lease prefix goes into SQL literals and LIKE patterns: "${prefix}" may not hold ' % _ \\ [ ]`);
  return `${prefix}%`;
}

/**
 * A database lock's name as a signed 64-bit number (decimal text), for locks keyed by numbers
 * (PostgreSQL's advisory locks): the first 8 bytes of its SHA-256.
 */
export function numericLockKey(name: string): string {
  return createHash('sha256').update(name).digest().readBigInt64BE(0).toString();
}

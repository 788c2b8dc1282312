import { randomFillSync } from 'node:crypto';
import { LEASE_STAMP_PREFIX } from './background-job-record';

/** ABP's ConcurrencyStamp: a Guid in "N" format (32 random hex digits). */
export function newConcurrencyStamp(): string {
  return randomHex(32);
}

/** A claim's fencing token: 38 characters, within the column's 40. */
export function newLeaseToken(): string {
  return LEASE_STAMP_PREFIX + newConcurrencyStamp();
}

/**
 * Where a time-ordered Guid keeps its time, so that new ids ascend in the database's own order of
 * its key and new rows append to the primary key's index instead of landing on random pages, as ABP
 * picks a `SequentialGuidType` per database provider:
 * - 'uuidv7': the time first (UUID version 7, RFC 9562), for databases that compare ids as bytes or
 *   text in order (PostgreSQL's uuid, MySQL's char(36), SQLite's text);
 * - 'sequentialAtEnd': ABP's `SequentialAtEnd`, the time in the last six bytes, for SQL Server, whose
 *   uniqueidentifier compares bytes 10-15 first, then 8-9, 6-7, 4-5 and 0-3.
 */
export type SequentialGuidLayout = 'uuidv7' | 'sequentialAtEnd';

/** A new job id, time-ordered in the given layout (see SequentialGuidLayout). */
export function newSequentialGuid(now = Date.now(), layout: SequentialGuidLayout = 'uuidv7'): string {
  return layout === 'sequentialAtEnd' ? newSequentialAtEndGuid(now) : newUuidV7(now);
}

/**
 * A UUID version 7 (RFC 9562). Within one millisecond the ids keep increasing too (RFC 9562
 * method 1: a 24-bit counter in rand_a and the top of rand_b, started at a random value below 2^23
 * each millisecond), followed by 48 random bits. A batch enqueue makes thousands of ids in one
 * millisecond, and they still append in order.
 */
function newUuidV7(now: number): string {
  if (now !== prefixTime || counter > MAX_COUNTER) {
    const time = now.toString(16).padStart(12, '0');
    prefix = `${time.slice(0, 8)}-${time.slice(8)}-7`;
    prefixTime = now;
    counter = parseInt(randomHex(6), 16) >>> 1;
  }
  const count = (counter++).toString(16).padStart(6, '0');
  return `${prefix}${count.slice(0, 3)}-8${count.slice(3)}-${randomHex(12)}`;
}

// The time part and the counter, kept while the millisecond lasts.
let prefixTime = -1;
let prefix = '';
let counter = 0;
const MAX_COUNTER = 0xffffff;

/** .NET counts DateTime ticks from 0001-01-01; this is 1970-01-01 in milliseconds of that count. */
const UNIX_EPOCH_IN_DOTNET_MS = 62_135_596_800_000;

/**
 * ABP's `SequentialAtEnd` Guid: bytes 10-15 (the last 12 hex digits) hold `DateTime.UtcNow.Ticks /
 * 10000` big-endian, as ABP's SequentialGuidGenerator writes them. Where ABP leaves the other ten
 * bytes random, the next most significant ones in SQL Server's order (8, 9, 6, 7) hold a 32-bit
 * counter started at a random value below 2^31 each millisecond, so ids made within one
 * millisecond ascend too; bytes 0-5 stay random. No version bits, as in ABP's.
 */
function newSequentialAtEndGuid(now: number): string {
  if (now !== atEndTime || atEndCounter > MAX_AT_END_COUNTER) {
    atEndTimeHex = (now + UNIX_EPOCH_IN_DOTNET_MS).toString(16).padStart(12, '0').slice(-12);
    atEndTime = now;
    atEndCounter = parseInt(randomHex(8), 16) >>> 1;
  }
  const count = (atEndCounter++).toString(16).padStart(8, '0');
  // In the text form the third group is bytes 7 and 6 (little-endian), the fourth bytes 8 and 9.
  const bytes8and9 = count.slice(0, 4);
  const bytes7and6 = `${count.slice(6, 8)}${count.slice(4, 6)}`;
  const random = randomHex(12);
  return `${random.slice(0, 8)}-${random.slice(8)}-${bytes7and6}-${bytes8and9}-${atEndTimeHex}`;
}

let atEndTime = -1;
let atEndTimeHex = '';
let atEndCounter = 0;
const MAX_AT_END_COUNTER = 0xffffffff;

// Random hex drawn 4 KiB at a time: a small random buffer per id and stamp would cost an enqueue
// more than building its SQL.
const POOL_BYTES = 4096;
let pool = '';
let poolOffset = 0;
function randomHex(digits: number): string {
  if (poolOffset + digits > pool.length) {
    pool = randomFillSync(Buffer.alloc(POOL_BYTES)).toString('hex');
    poolOffset = 0;
  }
  const hex = pool.slice(poolOffset, poolOffset + digits);
  poolOffset += digits;
  return hex;
}

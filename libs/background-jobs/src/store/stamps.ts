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
 * A time-ordered Guid (UUID version 7, RFC 9562), as ABP uses sequential Guids for its keys: new
 * rows append to the primary key's index instead of landing on random pages. Within one
 * millisecond the ids keep increasing too (RFC 9562 method 1: a 24-bit counter in rand_a and the
 * top of rand_b, started at a random value below 2^23 each millisecond), followed by 48 random
 * bits. A batch enqueue makes thousands of ids in one millisecond, and they still append in order.
 */
export function newSequentialGuid(now = Date.now()): string {
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

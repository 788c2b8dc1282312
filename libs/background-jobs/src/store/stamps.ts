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
 * A time-ordered Guid (UUID version 7: 48 bits of milliseconds, then random bits), as ABP uses
 * sequential Guids for its keys: new rows append to the primary key's index instead of landing on
 * random pages.
 */
export function newSequentialGuid(now = Date.now()): string {
  if (now !== prefixTime) {
    const time = now.toString(16).padStart(12, '0');
    prefix = `${time.slice(0, 8)}-${time.slice(8)}-7`;
    prefixTime = now;
  }
  const random = randomHex(20);
  const variant = VARIANT_DIGITS[parseInt(random[3], 16) & 3];
  return `${prefix}${random.slice(0, 3)}-${variant}${random.slice(4, 7)}-${random.slice(8)}`;
}

// The time part, kept while the millisecond lasts (a batch enqueue makes thousands in one).
let prefixTime = -1;
let prefix = '';

const VARIANT_DIGITS = ['8', '9', 'a', 'b'];

// Random hex drawn 4 KiB at a time: enqueueing 20,000 jobs spent more on one small random buffer
// per id and stamp than on building its SQL.
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

import { randomFillSync, randomUUID } from 'node:crypto';
import { LEASE_STAMP_PREFIX } from './background-job-record';

/** ABP's ConcurrencyStamp: a Guid in "N" format. */
export function newConcurrencyStamp(): string {
  return randomUUID().replace(/-/g, '');
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
  const bytes = nextRandomBytes();
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// Random bytes drawn 4 KiB at a time: one system call per 256 Guids instead of one each.
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;
function nextRandomBytes(): Buffer {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const bytes = Buffer.from(pool.subarray(poolOffset, poolOffset + 16));
  poolOffset += 16;
  return bytes;
}

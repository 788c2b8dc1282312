import { randomUUID } from 'node:crypto';
import { LEASE_STAMP_PREFIX } from './background-job-record';

/** ABP's ConcurrencyStamp: a Guid in "N" format. */
export function newConcurrencyStamp(): string {
  return randomUUID().replace(/-/g, '');
}

/** A claim's fencing token: 38 characters, within the column's 40. */
export function newLeaseToken(): string {
  return LEASE_STAMP_PREFIX + newConcurrencyStamp();
}

import { createHash } from 'node:crypto';

/**
 * Ids derived from what a job is, so that every process that means the same job writes the same
 * id and the primary key lets only one of them in: no lock, no leader, on every database.
 */

/** A name-based UUID, version 5 (RFC 9562 §5.5): SHA-1 of a 16-byte namespace and the name. */
export function uuidV5(namespace: Buffer, name: string): string {
  if (namespace.length !== 16) throw new RangeError('A UUIDv5 namespace is 16 bytes');
  const hash = createHash('sha1').update(namespace).update(name).digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Each kind of derived id has its own namespace, so no two kinds can meet. */
const UNIQUE_JOB_NAMESPACE = Buffer.from('3b0e6f2a9c4d4e1fb6a7d8c9e0f1a2b3', 'hex');
const OCCURRENCE_NAMESPACE = Buffer.from('8d4c2b1a0f9e4d3cb2a1908f7e6d5c4b', 'hex');

/**
 * The id of the one unfinished job of a job name and unique key, within one application: the
 * parts are joined as a JSON array, so no choice of key can make two different triples meet.
 */
export function uniqueJobId(applicationName: string | null, jobName: string, uniqueKey: string): string {
  return uuidV5(UNIQUE_JOB_NAMESPACE, JSON.stringify([applicationName, jobName, uniqueKey]));
}

/** The id of the job a schedule enqueues for one occurrence (its time to the millisecond, UTC). */
export function occurrenceJobId(applicationName: string | null, scheduleName: string, occurrence: Date): string {
  return uuidV5(OCCURRENCE_NAMESPACE, JSON.stringify([applicationName, scheduleName, occurrence.toISOString()]));
}

import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { SqliteBackgroundJobStore } from './dialects/sqlite.dialect';
import {
  deleteExpiredEnqueueKeys,
  ENQUEUE_KEY_RETENTION_MS,
  ENQUEUE_KEYS_PER_DELETE,
  enqueueFingerprint,
} from './enqueue-keys';

describe('enqueueFingerprint', () => {
  it('is hex SHA-256 that tells the job name from the args, however the two are split', () => {
    expect(enqueueFingerprint('Job', '{"a":1}')).toMatch(/^[0-9a-f]{64}$/);
    expect(enqueueFingerprint('Job', '{"a":1}')).toBe(enqueueFingerprint('Job', '{"a":1}'));
    expect(enqueueFingerprint('Job', '{"a":1}')).not.toBe(enqueueFingerprint('Job', '{"a":2}'));
    expect(enqueueFingerprint('Jo', 'b{"a":1}')).not.toBe(enqueueFingerprint('Job', '{"a":1}'));
  });
});

describe('deleteExpiredEnqueueKeys over SQLite', () => {
  const now = new Date('2030-06-15T12:00:00.000Z');
  let db: Database.Database;
  let store: SqliteBackgroundJobStore;

  beforeEach(async () => {
    db = new Database(':memory:');
    store = new SqliteBackgroundJobStore(db);
    await store.migrate();
  });

  afterEach(() => db.close());

  async function enqueueKeyed(count: number, creationTime: Date): Promise<string[]> {
    const jobs = Array.from({ length: count }, () => ({
      id: randomUUID(),
      jobName: 'Job',
      jobArgs: '{}',
      priority: 15,
      nextTryTime: creationTime,
      concurrencyStamp: '0'.repeat(32),
    }));
    await store.enqueue({
      applicationName: null,
      creationTime,
      jobs,
      keys: jobs.map((j) => ({ id: j.id, fingerprint: enqueueFingerprint('Job', '{}') })),
    });
    return jobs.map((j) => j.id);
  }

  it("deletes every key older than the retention, more than one statement's worth, and keeps the younger ones", async () => {
    const expired = await enqueueKeyed(
      2 * ENQUEUE_KEYS_PER_DELETE + 1,
      new Date(now.getTime() - ENQUEUE_KEY_RETENTION_MS - 1),
    );
    const kept = await enqueueKeyed(3, new Date(now.getTime() - ENQUEUE_KEY_RETENTION_MS + 1));
    const deletes = jest.spyOn(store, 'deleteEnqueueKeysBefore');

    expect(await deleteExpiredEnqueueKeys(store, now)).toBe(expired.length);

    expect(deletes.mock.calls.map(([, limit]) => limit)).toEqual([
      ENQUEUE_KEYS_PER_DELETE,
      ENQUEUE_KEYS_PER_DELETE,
      ENQUEUE_KEYS_PER_DELETE,
    ]);
    expect(await store.findEnqueueKeys(expired)).toEqual([]);
    expect(await store.findEnqueueKeys(kept)).toHaveLength(3);
    expect(await deleteExpiredEnqueueKeys(store, now)).toBe(0);
  });
});

import { BackgroundJobRecord } from '@app/background-jobs';
import { TestDatabase } from '../support/databases';
import { jobRecord } from '../support/job-records';
import { openStore } from '../support/open-store';
import { e2eCases, skipUnavailable } from './support/e2e-backends';
import { startWorker } from './support/apps';

jest.setTimeout(60_000);

function row(jobName: string, overrides: Partial<BackgroundJobRecord> = {}): BackgroundJobRecord {
  const now = new Date(Date.now() - 1000);
  return jobRecord({ jobName, jobArgs: '{"content":"x"}', creationTime: now, nextTryTime: now, ...overrides });
}

/**
 * Rows whose job name no job of the app knows are left alone, as ABP leaves them, but the worker
 * says at start how many are due and under which names, byte for byte (a trailing space shows).
 * Rows not due, abandoned, or of a known name are not counted.
 */
describe.each(e2eCases)('a worker on %s with rows of unknown job names', (_label, backend) => {
  if (skipUnavailable(backend)) return;
  let db: TestDatabase;

  beforeAll(async () => {
    db = await backend.create();
    const { store, close } = await openStore(db.connectionString);
    try {
      await store.migrate();
      await store.insert([
        row('MyReportJobArgs '),
        row('MyReportJobArgs '),
        row('Old'),
        row('Old', { nextTryTime: new Date(Date.now() + 3_600_000) }),
        row('Old', { isAbandoned: true }),
      ]);
    } finally {
      await close();
    }
  });

  afterAll(() => db?.drop());

  it('logs the due ones at start, leaves them in the table, and exits 0', async () => {
    const worker = await startWorker({ connectionString: db.connectionString });
    const line = await worker.waitForLog(/job names no worker here runs/, 15_000).catch((error: Error) => error);
    const exit = await worker.stop();
    expect(line).toMatchObject({
      msg: '3 due rows have job names no worker here runs: "MyReportJobArgs " (2), "Old" (1)',
    });
    expect(exit).toEqual({ code: 0, signal: null });
    const { store, close } = await openStore(db.connectionString);
    try {
      expect(await store.count(null)).toBe(5);
    } finally {
      await close();
    }
  });
});

import { LessThanOrEqual } from 'typeorm';
import { BackgroundJobRecordEntity } from '@app/background-jobs';
import { backends } from '../support/backends';
import { jobRecord } from '../support/job-records';
import { describeOnStoreBackends } from '../support/store-suite';

/**
 * An app reads and writes the store's rows through TypeORM with the entity mapped to ABP's column
 * types on its database (SQLite's times as text and booleans as 0/1 through transformers).
 */
jest.setTimeout(30_000);

const T0 = new Date('2030-06-15T12:00:00.123Z');

describeOnStoreBackends('BackgroundJobRecordEntity on %s', backends, (suite) => {
  const repository = () => suite.opened.dataSource.getRepository(BackgroundJobRecordEntity);

  it("reads the store's rows with their values and types, and finds them by time and flag", async () => {
    const waiting = jobRecord({ jobName: 'EntityJobArgs', nextTryTime: T0, priority: 25, tryCount: 2 });
    const abandoned = jobRecord({
      jobName: 'EntityJobArgs',
      applicationName: 'app',
      nextTryTime: new Date(T0.getTime() + 60_000),
      lastTryTime: T0,
      isAbandoned: true,
    });
    await suite.store.insert([waiting, abandoned]);

    const rows = await repository().find({ order: { priority: 'DESC' } });
    // Ids in the case the database keeps them (SQLite and SQL Server: upper case, as EF Core writes them).
    expect(rows.map((r) => ({ ...r, id: r.id.toLowerCase() }))).toEqual([waiting, abandoned]);
    expect(typeof rows[1].isAbandoned).toBe('boolean');
    expect(rows[0].nextTryTime).toBeInstanceOf(Date);

    const due = await repository().findBy({ isAbandoned: false, nextTryTime: LessThanOrEqual(T0) });
    expect(due.map((r) => r.id.toLowerCase())).toEqual([waiting.id]);
  });

  it('writes times and flags the store reads back', async () => {
    const job = jobRecord({ jobName: 'EntityWriteJobArgs' });
    await suite.store.insert([job]);
    const [row] = await repository().findBy({ jobName: 'EntityWriteJobArgs' });
    const completionTime = new Date('2030-06-16T08:30:00.500Z');
    await repository().update({ id: row.id }, { isAbandoned: true, completionTime });
    expect(await suite.store.find(job.id)).toMatchObject({ isAbandoned: true, completionTime });
  });
});

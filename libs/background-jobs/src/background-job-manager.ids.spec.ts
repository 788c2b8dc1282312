import { Injectable } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { knowingTheTable, RecordingSqlRunner } from '../../../test/support/mssql/recording-sql-runner';
import { AsyncBackgroundJob } from './async-background-job';
import { IBackgroundJobManager } from './background-job-manager';
import { BackgroundJobsModule } from './background-jobs.module';
import { BackgroundJob } from './decorators/background-job.decorator';
import { BACKGROUND_JOB_STORE, BackgroundJobStore } from './store/background-job-store';
import { MssqlBackgroundJobStore } from './store/dialects/mssql.dialect';

class PingArgs {
  n = 0;
}

@Injectable()
@BackgroundJob(PingArgs)
class PingJob extends AsyncBackgroundJob<PingArgs> {
  async execute(): Promise<void> {}
}

/** The bytes of a Guid as SQL Server stores them, in the order it compares uniqueidentifiers: 10-15, 8-9, 6-7, 4-5, 0-3. */
function sqlServerOrderKey(id: string): string {
  const hex = id.replace(/-/g, '');
  const bytes = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15].map((i) => hex.slice(2 * i, 2 * i + 2));
  return [10, 11, 12, 13, 14, 15, 8, 9, 6, 7, 4, 5, 0, 1, 2, 3].map((i) => bytes[i]).join('');
}

/** The manager makes the ids of new jobs in the layout of the store it writes to. */
describe('BackgroundJobManager: new job ids per database', () => {
  let app: TestingModule | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function managerOn(store?: BackgroundJobStore): Promise<IBackgroundJobManager> {
    const builder = Test.createTestingModule({
      imports: [BackgroundJobsModule.forRoot({ store: 'memory', isJobExecutionEnabled: false, autoMigrate: false })],
      providers: [PingJob],
    });
    if (store) builder.overrideProvider(BACKGROUND_JOB_STORE).useValue(store);
    app = await builder.compile();
    await app.init();
    return app.get<IBackgroundJobManager>(IBackgroundJobManager);
  }

  const jobs = (count: number) =>
    Array.from({ length: count }, (_, n) => ({ args: Object.assign(new PingArgs(), { n }) }));

  it("writes SQL Server rows with ABP's SequentialAtEnd ids, ascending in SQL Server's uniqueidentifier order", async () => {
    const sql = new RecordingSqlRunner();
    const store = new MssqlBackgroundJobStore(sql);
    await knowingTheTable(store, sql);
    const manager = await managerOn(store);
    const before = Date.now();
    const ids = [...(await manager.enqueueMany(jobs(1500))), await manager.enqueue(new PingArgs())];
    const sent = sql.calls.flatMap((c) => JSON.parse(c.params[0].value as string) as Array<{ id: string }>);
    expect(sent.map((row) => row.id)).toEqual(ids);
    expect([...ids].sort((a, b) => (sqlServerOrderKey(a) < sqlServerOrderKey(b) ? -1 : 1))).toEqual(ids);
    // The last six bytes: milliseconds since 0001-01-01, as ABP's DateTime.UtcNow.Ticks / 10000.
    const time = parseInt(ids[0].slice(24), 16) - 62_135_596_800_000;
    expect(time).toBeGreaterThanOrEqual(before);
    expect(time).toBeLessThanOrEqual(Date.now());
  });

  it('writes UUIDv7 ids elsewhere', async () => {
    const manager = await managerOn();
    const ids = await manager.enqueueMany(jobs(3));
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect([...ids].sort()).toEqual(ids);
  });
});

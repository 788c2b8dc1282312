import { randomBytes, randomUUID } from 'node:crypto';
import type { BackgroundJobStore, ClaimRequest, WorkerHeartbeatRow } from '@app/background-jobs';
import { occurrenceJobRow } from '@app/background-jobs/schedules/schedule-jobs';
import type { ScheduleRecord } from '@app/background-jobs/store/schedule-store';
import { TableNames } from '@app/background-jobs/store/table-names';
import { storeBackends } from '../support/backends';
import { jobRecord } from '../support/job-records';
import { openStore } from '../support/open-store';
import { describeOnStoreBackends, OpenedStore } from '../support/store-suite';

/**
 * ABP's DbTablePrefix and DbSchema (options tablePrefix and schema): with prefix "Custom" (and a
 * schema where the database has them: PostgreSQL a schema in the test database, MariaDB a second
 * database) every store path writes to CustomBackgroundJobs and our Custom* tables there, with
 * indexes named after them, and nothing is made under the default names. A store with another
 * prefix on the same database sees none of these rows.
 */
jest.setTimeout(60_000);

const PREFIX = 'Custom';
const hex32 = () => randomBytes(16).toString('hex');
const T0 = new Date(Date.now() - 60_000);
const at = (ms: number) => new Date(T0.getTime() + ms);

/** The tables and indexes whose names hold "BackgroundJob", as `schema.name` (no schema on SQLite). */
async function objects(opened: OpenedStore, dialect: string, schemas: string[]): Promise<string[]> {
  const q = (sql: string) => opened.dataSource.query<{ s: string | null; n: string }[]>(sql);
  const inList = schemas.map((s) => `'${s}'`).join(', ');
  let rows: { s: string | null; n: string }[];
  if (dialect === 'sqlite') {
    rows = await q(
      `SELECT NULL AS s, name AS n FROM sqlite_master WHERE type IN ('table', 'index') AND name LIKE '%BackgroundJob%'`,
    );
  } else if (dialect === 'postgres') {
    rows =
      await q(`SELECT table_schema AS s, table_name AS n FROM information_schema.tables WHERE table_name LIKE '%BackgroundJob%'
      UNION ALL SELECT schemaname, indexname FROM pg_indexes WHERE indexname LIKE '%BackgroundJob%'`);
  } else if (dialect === 'mysql') {
    rows = await q(`SELECT TABLE_SCHEMA AS s, TABLE_NAME AS n FROM information_schema.TABLES
        WHERE TABLE_SCHEMA IN (${inList}) AND TABLE_NAME LIKE '%BackgroundJob%'
      UNION ALL SELECT DISTINCT TABLE_SCHEMA, INDEX_NAME FROM information_schema.STATISTICS
        WHERE TABLE_SCHEMA IN (${inList}) AND INDEX_NAME LIKE '%BackgroundJob%'`);
  } else {
    rows =
      await q(`SELECT SCHEMA_NAME(t.schema_id) AS s, t.name AS n FROM sys.tables t WHERE t.name LIKE '%BackgroundJob%'
      UNION ALL SELECT SCHEMA_NAME(t.schema_id), i.name FROM sys.indexes i JOIN sys.tables t ON t.object_id = i.object_id
        WHERE i.name LIKE '%BackgroundJob%'`);
  }
  return rows.map((r) => (r.s ? `${r.s}.${r.n}` : r.n)).sort();
}

describeOnStoreBackends(
  'Table prefix and schema: %s',
  storeBackends,
  (suite) => {
    let opened: OpenedStore;
    let store: BackgroundJobStore;
    /** The schema the store's tables go to (none on SQLite and the in-memory store). */
    let schema: string | undefined;
    /** Where the connection's own tables go: PostgreSQL public, MariaDB the test database, SQL Server dbo. */
    let home: string;
    let dropSchema: (() => Promise<unknown>) | undefined;
    const sqlName = () => suite.backend.name;

    beforeAll(async () => {
      const name = suite.backend.name;
      schema =
        name === 'postgres' || name === 'mysql' || name === 'sqlserver' ? `bj_${hex32().slice(0, 8)}` : undefined;
      opened = await openStore(suite.database.connectionString, suite.backend.provider, {
        tablePrefix: PREFIX,
        schema,
      });
      store = opened.store;
      if (name === 'postgres' || name === 'sqlserver') await opened.dataSource.query(`CREATE SCHEMA ${schema}`);
      if (name === 'mysql') {
        await opened.dataSource.query(`CREATE DATABASE \`${schema}\``);
        dropSchema = () => opened.dataSource.query(`DROP DATABASE IF EXISTS \`${schema}\``);
      }
      if (name === 'postgres') home = 'public';
      if (name === 'sqlserver') home = 'dbo';
      if (name === 'mysql') home = (await opened.dataSource.query<{ d: string }[]>('SELECT DATABASE() AS d'))[0].d;
      await store.migrate();
      await store.migrate(); // a second run finds every object by its prefixed name
    });

    afterAll(async () => {
      await dropSchema?.().catch(() => undefined);
      await opened?.close();
    });

    const claim = (request: Partial<ClaimRequest> & Pick<ClaimRequest, 'jobNames'>) =>
      store.claim({
        applicationName: null,
        limit: 100,
        now: new Date(),
        leaseUntil: new Date(Date.now() + 60_000),
        leaseToken: `lease:${hex32()}`,
        ...request,
      });

    it('migrate makes the prefixed tables and indexes, in the schema, and nothing under the default names', async () => {
      if (!suite.backend.sql) return;
      const found = await objects(opened, sqlName(), schema ? [schema, home] : []);
      const inSchema = (n: string) => (schema ? `${schema}.${n}` : n);
      expect(found).toEqual(
        expect.arrayContaining(
          [
            'CustomBackgroundJobs',
            'CustomBackgroundJobEnqueueKeys',
            'CustomBackgroundJobWorkers',
            'CustomBackgroundJobSchedules',
            'CustomBackgroundJobCancellations',
            'IX_CustomBackgroundJobs_Dequeue',
            'IX_CustomBackgroundJobEnqueueKeys_CreationTime',
          ].map(inSchema),
        ),
      );
      // ABP's own index, named by ABP's rule for the prefixed table (cut by EF Core at 63/64 characters).
      const abpIndex = 'IX_CustomBackgroundJobs_ApplicationName_CompletionTime_IsAbandoned_NextTryTime';
      const cut = { postgres: `${abpIndex.slice(0, 62)}~`, mysql: `${abpIndex.slice(0, 63)}~` }[sqlName() as string];
      expect(found).toContain(inSchema(cut ?? abpIndex));
      expect(found.filter((n) => n.includes('AbpBackgroundJob'))).toEqual([]);
      if (schema) expect(found.filter((n) => !n.startsWith(`${schema}.`))).toEqual([]);
    });

    it('a second migrate finds every object by its prefixed name and sends no DDL for it', async () => {
      if (!suite.backend.sql) return;
      const sent = jest.spyOn(TableNames.prototype, 'sql');
      try {
        await store.migrate();
        const ddl = sent.mock.calls
          .map(([text]) => text)
          .filter((text) => /\b(CREATE|DROP|ALTER)\s+(UNIQUE\s+)?(TABLE|INDEX)\b/i.test(text))
          // SQLite runs its CREATE TABLE IF NOT EXISTS of our tables every time (no permissions there).
          .filter((text) => !(sqlName() === 'sqlite' && /IF NOT EXISTS/i.test(text)));
        expect(ddl).toEqual([]);
        expect(sent).toHaveBeenCalled();
      } finally {
        sent.mockRestore();
      }
    });

    it('enqueue, claim, complete, fail, find, count and the enqueue keys run on the prefixed table', async () => {
      const jobName = `Prefixed${hex32().slice(0, 6)}`;
      const ids = [randomUUID(), randomUUID(), randomUUID()];
      const keys = [{ id: ids[0], fingerprint: hex32() }];
      await store.enqueue({
        applicationName: null,
        creationTime: new Date(),
        jobs: ids.map((id) => ({
          id,
          jobName,
          jobArgs: '{"n":1}',
          priority: 15,
          nextTryTime: T0,
          concurrencyStamp: hex32(),
        })),
        keys,
      });
      expect(await store.findEnqueueKeys([ids[0]])).toEqual([expect.objectContaining({ id: ids[0] })]);
      expect(await store.count()).toBeGreaterThanOrEqual(3);
      expect(await store.countDueByJobName(null, new Date())).toEqual(
        expect.arrayContaining([expect.objectContaining({ jobName, count: 3 })]),
      );
      expect(await store.oldestDueTime(null, new Date())).not.toBeNull();
      const token = `lease:${hex32()}`;
      const claimed = await claim({ jobNames: [jobName], leaseToken: token });
      expect(claimed.map((j) => j.id).sort()).toEqual([...ids].sort());
      expect(await store.extendLeases(token, [ids[0]], new Date(Date.now() + 120_000))).toBe(1);
      expect(await store.complete(token, [ids[0]])).toBe(1);
      expect(
        await store.fail([
          { id: ids[1], leaseToken: token, nextTryTime: null, extraProperties: '{"LastError":"x"}', newStamp: hex32() },
          { id: ids[2], leaseToken: token, nextTryTime: at(1000), extraProperties: '{}', newStamp: hex32() },
        ]),
      ).toBe(2);
      expect(await store.find(ids[0])).toBeUndefined();
      expect(await store.find(ids[1])).toMatchObject({ isAbandoned: true, tryCount: 1 });
      expect(await store.find(ids[2])).toMatchObject({ isAbandoned: false, tryCount: 1 });
      expect(await store.deleteEnqueueKeysBefore(new Date(Date.now() + 60_000), 100)).toBeGreaterThanOrEqual(1);

      const counts = await store.admin.countStates(new Date(), 1000);
      expect(counts.length).toBeGreaterThan(0);
      const abandoned = await store.admin.list({ state: 'abandoned', now: new Date(), jobName, limit: 10 });
      expect(abandoned.map((j) => j.record.id)).toEqual([ids[1]]);
      const requeue = {
        id: ids[1],
        expectedStamp: abandoned[0].record.concurrencyStamp,
        extraProperties: '{}',
        newStamp: hex32(),
      };
      expect(await store.admin.requeue([requeue], new Date())).toEqual([ids[1]]);
      expect(await store.admin.delete([ids[2]], new Date())).toEqual([ids[2]]);

      if (suite.backend.sql) {
        const select = {
          sqlite: 'SELECT "Id" FROM "CustomBackgroundJobs"',
          postgres: `SELECT "Id" FROM "${schema}"."CustomBackgroundJobs"`,
          mysql: `SELECT \`Id\` FROM \`${schema}\`.\`CustomBackgroundJobs\``,
          sqlserver: `SELECT [Id] FROM [${schema}].[CustomBackgroundJobs]`,
        }[sqlName() as string]!;
        const rows = await opened.dataSource.query<{ Id: string }[]>(select);
        expect(rows.map((r) => r.Id.toLowerCase())).toContain(ids[1]);
      }
    });

    it('heartbeats, schedules, unique jobs and cancellations run on the prefixed tables', async () => {
      const beat: WorkerHeartbeatRow = {
        id: randomUUID(),
        host: 'prefixed-host',
        pid: 1,
        applicationName: null,
        jobNames: ['A'],
        maxParallel: 1,
        running: 0,
        startedAt: new Date(Date.now() - 1000),
        lastHeartbeat: new Date(),
      };
      await store.heartbeats.beat(beat);
      expect((await store.heartbeats.live(new Date(Date.now() - 60_000))).map((b) => b.id)).toEqual([beat.id]);
      expect(await store.heartbeats.prune(new Date(Date.now() - 600_000))).toBe(0);
      await store.heartbeats.remove(beat.id);

      const schedule: ScheduleRecord = {
        name: `prefixed-${hex32().slice(0, 8)}`,
        applicationName: null,
        jobName: 'ScheduledJob',
        jobArgs: '{}',
        cron: '* * * * *',
        timeZone: null,
        priority: 15,
        source: 'runtime',
        isPaused: false,
        definitionStamp: hex32(),
        creationTime: T0,
        lastOccurrenceTime: T0,
        lastEnqueueTime: null,
        lastJobId: null,
      };
      expect(await store.schedules.insert(schedule)).toBe(true);
      expect(await store.schedules.find(schedule.name)).toEqual(schedule);
      const time = at(60_000);
      const job = occurrenceJobRow(schedule, time, time);
      expect(
        await store.schedules.enqueueRun(
          { name: schedule.name, job, occurrence: { time, definitionStamp: schedule.definitionStamp } },
          new Date(),
        ),
      ).toBe(true);
      expect(await store.find(job.id)).toMatchObject({ jobName: 'ScheduledJob' });
      expect(await store.schedules.setPaused(schedule.name, true, new Date())).toBe(true);
      expect(await store.schedules.remove(schedule.name)).toBe(true);

      const unique = jobRecord({ jobName: 'UniqueJob', nextTryTime: T0 });
      expect(await store.uniqueJobs.insertIfAbsent(unique)).toBe(true);
      expect(await store.uniqueJobs.insertIfAbsent(unique)).toBe(false);
      expect(await store.uniqueJobs.current(unique.id)).toEqual(unique);

      const waiting = jobRecord({ jobName: 'CancelledJob', nextTryTime: at(3_600_000) });
      await store.insert([waiting]);
      expect(
        await store.cancellations.abandonWaiting(
          {
            id: waiting.id,
            expectedStamp: waiting.concurrencyStamp,
            extraProperties: '{"LastError":"cancelled"}',
            newStamp: hex32(),
          },
          new Date(),
        ),
      ).toBe(true);
      const held = jobRecord({ jobName: 'HeldJob' });
      await store.insert([held]);
      await store.cancellations.request(
        { id: held.id, jobCreationTime: held.creationTime, requestedBy: 'me' },
        new Date(),
      );
      expect((await store.cancellations.findRequests([held.id])).map((r) => r.id)).toEqual([held.id]);
      await store.cancellations.deleteRequests([held.id]);
      expect(await store.cancellations.findRequests([held.id])).toEqual([]);
    });

    it('a store with another prefix on the same database sees none of these rows', async () => {
      if (!suite.backend.sql) return;
      const other = await suite.open(); // ABP's default names
      const before = await objects(other, sqlName(), schema ? [schema, home] : []);
      expect(before.filter((n) => n.includes('AbpBackgroundJob'))).toEqual([]);
      await other.store.migrate();
      expect(await other.store.count()).toBe(0);
      expect(await store.count()).toBeGreaterThan(0);
    });
  },
  { open: false },
);

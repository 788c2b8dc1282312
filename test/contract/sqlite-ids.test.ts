import { randomBytes, randomUUID } from 'node:crypto';
import { backends } from '../support/backends';
import { jobRecord } from '../support/job-records';
import { describeOnStoreBackends } from '../support/store-suite';

/**
 * EF Core's SQLite provider stores Guids as upper-case text and looks them up as such, so an ABP
 * app sharing the file finds only upper-case ids. The store writes ids that way and still finds,
 * claims and updates rows whose ids are lower case (as older versions of this store wrote them).
 */
jest.setTimeout(30_000);

const T0 = new Date('2030-06-15T12:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const hex32 = () => randomBytes(16).toString('hex');
const leaseToken = () => `lease:${hex32()}`;
const sqlite = backends.filter((b) => b.name === 'sqlite');

describeOnStoreBackends(
  'SQLite ids in the case EF Core uses',
  sqlite,
  (suite) => {
    const storedIds = async (): Promise<string[]> =>
      (
        await suite.opened.dataSource.query<Array<{ Id: string }>>('SELECT "Id" FROM "AbpBackgroundJobs" ORDER BY "Id"')
      ).map((r) => r.Id);

    /** A row as an older version of this store wrote it: lower-case id, written past the store. */
    const insertLowerCaseRow = async (jobName: string): Promise<string> => {
      const id = randomUUID().toLowerCase();
      await suite.opened.dataSource.query(
        `INSERT INTO "AbpBackgroundJobs" ("Id", "ApplicationName", "JobName", "JobArgs", "TryCount", "CreationTime", "NextTryTime",
        "LastTryTime", "IsAbandoned", "Priority", "CompletionTime", "ExtraProperties", "ConcurrencyStamp")
       VALUES (?, NULL, ?, '{}', 0, '2030-06-15 12:00:00', '2030-06-15 12:00:00', NULL, 0, 15, NULL, '{}', ?)`,
        [id, jobName, hex32()],
      );
      return id;
    };

    it('stores an enqueued id in upper case and finds it by either case, returning it in lower case', async () => {
      const id = randomUUID();
      await suite.store.enqueue({
        applicationName: null,
        creationTime: T0,
        jobs: [
          { id, jobName: 'IdCaseJobArgs', jobArgs: '{}', priority: 15, nextTryTime: T0, concurrencyStamp: hex32() },
        ],
      });
      expect(await storedIds()).toEqual([id.toUpperCase()]);
      expect((await suite.store.find(id))?.id).toBe(id);
      expect((await suite.store.find(id.toUpperCase()))?.id).toBe(id);
    });

    it('stores an inserted id in upper case too', async () => {
      const id = randomUUID();
      await suite.store.insert([jobRecord({ id, jobName: 'IdCaseJobArgs', creationTime: T0, nextTryTime: T0 })]);
      expect(await storedIds()).toEqual([id.toUpperCase()]);
    });

    it('finds, claims and completes a row whose id is stored in lower case', async () => {
      const id = await insertLowerCaseRow('LowerCaseJobArgs');
      expect((await suite.store.find(id.toUpperCase()))?.id).toBe(id);

      const token = leaseToken();
      const claimed = await suite.store.claim({
        applicationName: null,
        jobNames: ['LowerCaseJobArgs'],
        limit: 10,
        now: T0,
        leaseUntil: at(60_000),
        leaseToken: token,
      });
      expect(claimed.map((job) => job.id)).toEqual([id]);
      expect((await suite.store.find(id))?.concurrencyStamp).toBe(token);

      expect(await suite.store.complete(token, [id.toUpperCase()])).toBe(1);
      expect(await suite.store.find(id)).toBeUndefined();
    });

    it('extends, releases and fails rows whose ids are stored in lower case', async () => {
      const [kept, released] = [
        await insertLowerCaseRow('LowerCaseJobArgs'),
        await insertLowerCaseRow('LowerCaseJobArgs'),
      ];
      const token = leaseToken();
      const claim = (leaseToken: string) =>
        suite.store.claim({
          applicationName: null,
          jobNames: ['LowerCaseJobArgs'],
          limit: 10,
          now: T0,
          leaseUntil: at(60_000),
          leaseToken,
        });
      expect((await claim(token)).map((job) => job.id).sort()).toEqual([kept, released].sort());

      expect(await suite.store.extendLeases(token, [kept, released], at(120_000))).toBe(2);
      expect((await suite.store.find(kept))?.nextTryTime).toEqual(at(120_000));

      expect(
        await suite.store.release({ leaseToken: token, ids: [released], now: T0, newStamp: hex32(), undoTry: true }),
      ).toBe(1);
      expect((await suite.store.find(released))?.tryCount).toBe(0);

      expect(
        await suite.store.fail([
          { id: kept, leaseToken: token, nextTryTime: null, extraProperties: '{"x":1}', newStamp: hex32() },
        ]),
      ).toBe(1);
      expect(await suite.store.find(kept)).toMatchObject({ isAbandoned: true, extraProperties: '{"x":1}' });
      expect(await storedIds()).toEqual([kept, released].sort());
    });
  },
  { perTest: true },
);

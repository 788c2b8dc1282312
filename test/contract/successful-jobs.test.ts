import { randomBytes } from 'node:crypto';
import { BackgroundJobRecord, BackgroundJobStore, ClaimRequest, CompletedJobUpdate } from '@app/background-jobs';
import { cleanupLockName, SuccessfulJobCleanup } from '@app/background-jobs/worker/successful-job-cleanup';
import { storeBackends } from '../support/backends';
import { jobRecord } from '../support/job-records';
import { abpMigrations } from '../support/abp-migrations';
import { legacyTables } from '../support/legacy-tables';
import { describeOnStoreBackends } from '../support/store-suite';
import { openStore } from '../support/open-store';

/**
 * ABP 10's StoreSuccessfulJobs at the store: a succeeded row is kept, marked completed, and never
 * claimed again; the cleanup deletes kept rows past their retention in bounded batches, one
 * worker at a time under a database lock. Every dialect must pass this unchanged. Each test keeps
 * to its own application name, so the cleanup of one never sees another's rows.
 */
jest.setTimeout(30_000);

const T0 = new Date('2030-06-15T12:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;
const hex32 = () => randomBytes(16).toString('hex');
const leaseToken = () => `lease:${hex32()}`;
const HOUR = 3_600_000;

describeOnStoreBackends('StoreSuccessfulJobs at the store: %s', storeBackends, (suite) => {
  const { backend, open, freshDatabase } = suite;
  const itWithSql = backend.sql
    ? it
    : (name: string) => it.skip(`${name} (skipped: ${backend.name} has no SQL database)`, () => undefined);

  /** Rows of one fresh application, due at T0. */
  const rowsOf = (applicationName: string | null, count: number, overrides: Partial<BackgroundJobRecord> = {}) =>
    Array.from({ length: count }, () =>
      jobRecord({
        applicationName,
        jobName: 'KeptJobArgs',
        jobArgs: '{"n":1}',
        creationTime: at(-HOUR),
        nextTryTime: T0,
        ...overrides,
      }),
    );
  const claim = (applicationName: string, request: Partial<ClaimRequest> = {}, store = suite.store) =>
    store.claim({
      applicationName,
      jobNames: ['KeptJobArgs'],
      limit: 100,
      now: T0,
      leaseUntil: at(60_000),
      leaseToken: leaseToken(),
      ...request,
    });
  const kept = (id: string, token: string, overrides: Partial<CompletedJobUpdate> = {}): CompletedJobUpdate => ({
    id,
    leaseToken: token,
    completionTime: at(1234),
    extraProperties: '{"Result":{"rows":3}}',
    newStamp: hex32(),
    ...overrides,
  });
  /** Kept rows of `app` completed at the given offsets from T0 (inserted as they would be left). */
  const keptRows = async (app: string | null, completedAt: number[]) => {
    const rows = completedAt.map((ms) => rowsOf(app, 1, { tryCount: 1, completionTime: at(ms) })[0]);
    await suite.store.insert(rows);
    return rows;
  };

  describe('completeAndKeep', () => {
    it('keeps the row: CompletionTime, the result bag and a new stamp; every other column as the claim left it', async () => {
      const app = unique('keep');
      const [row] = rowsOf(app, 1);
      await suite.store.insert([row]);
      const [claimed] = await claim(app);
      const update = kept(row.id, claimed.leaseToken);
      expect(await suite.store.completeAndKeep([update])).toBe(1);
      const leased: Partial<typeof claimed> = { ...claimed };
      delete leased.leaseToken;
      delete leased.previousLeaseExpired;
      delete leased.dueTime;
      expect(await suite.store.find(row.id)).toEqual({
        ...leased,
        completionTime: update.completionTime,
        extraProperties: update.extraProperties,
        concurrencyStamp: update.newStamp,
      });
    });

    it('leaves ExtraProperties as they are when given none, and writes several rows in one call', async () => {
      const app = unique('keep-many');
      const rows = rowsOf(app, 3, { extraProperties: '{"LastError":"earlier try"}' });
      await suite.store.insert(rows);
      const claimed = await claim(app);
      const updates = claimed.map((job, i) =>
        kept(job.id, job.leaseToken, { extraProperties: null, completionTime: at(i) }),
      );
      expect(await suite.store.completeAndKeep(updates)).toBe(3);
      for (const update of updates) {
        expect(await suite.store.find(update.id)).toMatchObject({
          completionTime: update.completionTime,
          extraProperties: '{"LastError":"earlier try"}',
          concurrencyStamp: update.newStamp,
        });
      }
    });

    it('is refused with a stale token, counting only the rows still held', async () => {
      const app = unique('keep-stale');
      const [row, other] = rowsOf(app, 2);
      await suite.store.insert([row, other]);
      const first = await claim(app, { leaseUntil: at(1000) });
      const [stale] = first.filter((j) => j.id === row.id);
      // The lease ran out and another worker claimed the row.
      const second = await claim(app, { now: at(1000), leaseUntil: at(61_000) });
      const current = second.find((j) => j.id === row.id)!;
      const held = await suite.store.find(row.id);
      expect(await suite.store.completeAndKeep([kept(row.id, stale.leaseToken)])).toBe(0);
      expect(await suite.store.find(row.id)).toEqual(held);
      expect(
        await suite.store.completeAndKeep([kept(row.id, current.leaseToken), kept(other.id, stale.leaseToken)]),
      ).toBe(1);
    });

    it('a kept row is never claimed again, counted as due, nor changed by its old lease', async () => {
      const app = unique('keep-never');
      const [row] = rowsOf(app, 1);
      await suite.store.insert([row]);
      const [claimed] = await claim(app);
      await suite.store.completeAndKeep([kept(row.id, claimed.leaseToken)]);
      const done = await suite.store.find(row.id);

      expect(await claim(app, { now: at(1000 * HOUR) })).toEqual([]);
      expect(await suite.store.countDueByJobName(app, at(1000 * HOUR))).toEqual([]);
      const token = claimed.leaseToken;
      expect(await suite.store.extendLeases(token, [row.id], at(HOUR))).toBe(0);
      expect(
        await suite.store.release({ leaseToken: token, ids: [row.id], now: T0, newStamp: hex32(), undoTry: true }),
      ).toBe(0);
      expect(
        await suite.store.fail([
          { id: row.id, leaseToken: token, nextTryTime: null, extraProperties: '{}', newStamp: hex32() },
        ]),
      ).toBe(0);
      expect(await suite.store.complete(token, [row.id])).toBe(0);
      expect(await suite.store.find(row.id)).toEqual(done);
    });
  });

  describe('deleteCompletedBefore', () => {
    it('deletes only kept rows of the application completed before the time, at most `limit` per call', async () => {
      const app = unique('clean');
      const expired = await keptRows(app, [-5 * HOUR, -4 * HOUR, -3 * HOUR]);
      const young = await keptRows(app, [-1000]);
      const live = rowsOf(app, 2, { creationTime: at(-100 * HOUR), nextTryTime: at(-100 * HOUR) });
      const abandoned = rowsOf(app, 1, { isAbandoned: true, creationTime: at(-100 * HOUR) });
      await suite.store.insert([...live, ...abandoned]);

      const before = at(-HOUR);
      expect(await suite.store.deleteCompletedBefore(app, before, 2)).toBe(2);
      expect(await suite.store.deleteCompletedBefore(app, before, 2)).toBe(1);
      expect(await suite.store.deleteCompletedBefore(app, before, 2)).toBe(0);
      for (const row of expired) expect(await suite.store.find(row.id)).toBeUndefined();
      for (const row of [...young, ...live, ...abandoned]) expect(await suite.store.find(row.id)).toEqual(row);
    });

    it('keeps applications apart: null cleans only NULL rows, "a" never the rows of "b" or of a look-alike name', async () => {
      const a = unique('App');
      const [ofNull] = await keptRows(null, [-5 * HOUR]);
      const [ofA] = await keptRows(a, [-5 * HOUR]);
      const [ofB] = await keptRows(unique('b'), [-5 * HOUR]);
      // MariaDB's and SQL Server's usual collations take these for the same name.
      const [lookAlike] = await keptRows(`${a.toLowerCase()} `, [-5 * HOUR]);

      expect(await suite.store.deleteCompletedBefore(a, T0, 100)).toBe(1);
      expect(await suite.store.find(ofA.id)).toBeUndefined();
      expect(await suite.store.find(ofB.id)).toEqual(ofB);
      expect(await suite.store.find(ofNull.id)).toEqual(ofNull);
      expect(await suite.store.find(lookAlike.id)).toEqual(lookAlike);
      expect(await suite.store.deleteCompletedBefore(null, T0, 1000)).toBeGreaterThanOrEqual(1);
      expect(await suite.store.find(ofNull.id)).toBeUndefined();
      expect(await suite.store.find(ofB.id)).toEqual(ofB);
    });
  });

  describe('tryWithLock', () => {
    it('one holder at a time across stores; the others get undefined at once and their work never runs', async () => {
      const name = unique('Lock');
      const other = await open();
      let release!: () => void;
      const holding = new Promise<void>((resolve) => (release = resolve));
      let entered!: () => void;
      const inside = new Promise<void>((resolve) => (entered = resolve));
      const first = suite.store.tryWithLock(name, async () => {
        entered();
        await holding;
        return 'first';
      });
      await inside;

      const refused = jest.fn(async () => 'second');
      const started = Date.now();
      expect(await other.store.tryWithLock(name, refused)).toBeUndefined();
      expect(Date.now() - started).toBeLessThan(5000);
      expect(refused).not.toHaveBeenCalled();
      // Another name is another lock.
      expect(await other.store.tryWithLock(unique('Other'), async () => 42)).toEqual({ value: 42 });

      release();
      expect(await first).toEqual({ value: 'first' });
      expect(await other.store.tryWithLock(name, async () => 'after')).toEqual({ value: 'after' });
    });

    itWithSql(
      "is the tables' own: a store on another database, or with another table prefix on this one, takes the name while this store holds it",
      async () => {
        const name = unique('LockScope');
        const sameTables = await open();
        const otherDatabase = await open((await freshDatabase()).connectionString);
        await otherDatabase.store.migrate();
        const otherPrefix = await openStore(suite.database.connectionString, backend.provider, {
          tablePrefix: 'LockScope',
        });
        const holds: Array<{ release: () => void; done: Promise<unknown> }> = [];
        /** Takes the lock in `store` and holds it until released (at the end, whatever happens). */
        const hold = async (store: BackgroundJobStore) => {
          let release!: () => void;
          let entered!: () => void;
          const inside = new Promise<void>((resolve) => (entered = resolve));
          const done = store.tryWithLock(name, () => {
            entered();
            return new Promise<void>((resolve) => (release = resolve));
          });
          await Promise.race([inside, done]);
          holds.push({ release: () => release?.(), done });
          return holds[holds.length - 1];
        };
        try {
          await otherPrefix.store.migrate();
          const mine = await hold(suite.store);

          expect(await sameTables.store.tryWithLock(name, async () => 'same tables')).toBeUndefined();
          expect(await otherDatabase.store.tryWithLock(name, async () => 'other database')).toEqual({
            value: 'other database',
          });
          expect(await otherPrefix.store.tryWithLock(name, async () => 'other prefix')).toEqual({
            value: 'other prefix',
          });
          // And the other way round: while the other prefix holds the name, this store's tables are free.
          await hold(otherPrefix.store);
          mine.release();
          await mine.done;
          expect(await sameTables.store.tryWithLock(name, async () => 'free again')).toEqual({ value: 'free again' });
        } finally {
          for (const { release, done } of holds) {
            release();
            await done.catch(() => undefined);
          }
          await otherPrefix.close();
        }
      },
    );

    it('is released when the work throws', async () => {
      const name = unique('LockThrow');
      await expect(
        suite.store.tryWithLock(name, async () => {
          throw new Error('work failed');
        }),
      ).rejects.toThrow('work failed');
      const other = await open();
      expect(await other.store.tryWithLock(name, async () => 'free')).toEqual({ value: 'free' });
    });
  });

  describe('the cleanup (SuccessfulJobCleanup)', () => {
    const cleanupOf = (store: BackgroundJobStore, applicationName: string, maxJobFetchCount: number) =>
      new SuccessfulJobCleanup(store, { applicationName, successfulJobRetentionTime: 3600, maxJobFetchCount });

    it('deletes every expired kept row in batches of MaxJobFetchCount, leaving the young and the live', async () => {
      const app = unique('cleanup');
      const expired = await keptRows(app, [-9 * HOUR, -8 * HOUR, -7 * HOUR, -6 * HOUR, -5 * HOUR]);
      const young = await keptRows(app, [-HOUR + 1000]);
      const live = rowsOf(app, 1, { creationTime: at(-9 * HOUR), nextTryTime: at(-9 * HOUR) });
      await suite.store.insert(live);
      const batches: number[] = [];
      const counted = Object.create(suite.store) as BackgroundJobStore;
      counted.deleteCompletedBefore = async (...args) => {
        const n = await suite.store.deleteCompletedBefore(...args);
        batches.push(n);
        return n;
      };

      expect(await cleanupOf(counted, app, 2).runOnce(T0)).toBe(5);
      expect(batches).toEqual([2, 2, 1, 0]);
      for (const row of expired) expect(await suite.store.find(row.id)).toBeUndefined();
      for (const row of [...young, ...live]) expect(await suite.store.find(row.id)).toEqual(row);
    });

    it('runs in one worker at a time: while another holds the cleanup lock, a round deletes nothing', async () => {
      const app = unique('cleanup-locked');
      const [row] = await keptRows(app, [-9 * HOUR]);
      const other = await open();
      let release!: () => void;
      let entered!: () => void;
      const inside = new Promise<void>((resolve) => (entered = resolve));
      const held = other.store.tryWithLock(cleanupLockName(app), () => {
        entered();
        return new Promise<void>((resolve) => (release = resolve));
      });
      await inside;

      expect(await cleanupOf(suite.store, app, 10).runOnce(T0)).toBeUndefined();
      expect(await suite.store.find(row.id)).toEqual(row);
      release();
      await held;
      expect(await cleanupOf(suite.store, app, 10).runOnce(T0)).toBe(1);
    });
  });

  describe('hasCompletionTimeColumn', () => {
    it('is true once migrated', async () => {
      expect(await suite.store.hasCompletionTimeColumn()).toBe(true);
    });

    itWithSql(
      "is false for ABP 9's table, migrated or not (ABP's own 10.6 migration adds it), and true once that has",
      async () => {
        const legacy = backend.name === 'memory' ? undefined : legacyTables[backend.name];
        if (!legacy) throw new Error(`test/support/legacy-tables.ts has no entry for the backend "${backend.name}"`);
        const db = await freshDatabase();
        const opened = await open(db.connectionString);
        for (const statement of legacy.statements) await opened.dataSource.query(statement);
        expect(await opened.store.hasCompletionTimeColumn()).toBe(false);
        await opened.store.migrate();
        expect(await opened.store.hasCompletionTimeColumn()).toBe(false);
        if (backend.name === 'memory') return;
        for (const migration of abpMigrations[backend.name])
          for (const statement of migration.statements) await opened.dataSource.query(statement);
        expect(await (await open(db.connectionString)).store.hasCompletionTimeColumn()).toBe(true);
      },
    );
  });
});

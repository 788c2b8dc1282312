import { randomBytes, randomUUID } from 'node:crypto';
import { BackgroundJobRecord, BackgroundJobStore, ClaimRequest, MAX_JOB_ARGS_LENGTH } from '@app/background-jobs';
import { storeBackends } from '../support/backends';
import { jobRecord } from '../support/job-records';
import { LEGACY_ROW, legacyTables } from '../support/legacy-tables';
import { describeOnStoreBackends } from '../support/store-suite';
import { unreachableError } from '../support/unreachable';

/**
 * The store contract: every dialect behind BackgroundJobStore must pass it unchanged. One fresh
 * database per backend per run; each test keeps to its own job names so tests never see each
 * other's rows. Times are passed in explicitly, so nothing here depends on the clock.
 */
jest.setTimeout(30_000);

const T0 = new Date('2030-06-15T12:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;
const hex32 = () => randomBytes(16).toString('hex');
const leaseToken = () => `lease:${hex32()}`;

const row = (overrides: Partial<BackgroundJobRecord> = {}) =>
  jobRecord({ jobName: 'ContractJobArgs', jobArgs: '{"value":1}', creationTime: T0, nextTryTime: T0, ...overrides });

describeOnStoreBackends('BackgroundJobStore contract: %s', storeBackends, (suite) => {
  const { backend, open, freshDatabase } = suite;
  /** Tests of SQL tables or connections: the in-memory store has neither. */
  const itWithSql = backend.sql
    ? it
    : (name: string) => it.skip(`${name} (skipped: ${backend.name} has no SQL database)`, () => undefined);
  const claim = (request: Partial<ClaimRequest> & Pick<ClaimRequest, 'jobNames'>, on = suite.store) =>
    on.claim({
      applicationName: null,
      limit: 100,
      now: T0,
      leaseUntil: at(60_000),
      leaseToken: leaseToken(),
      ...request,
    });

  describe('migrate', () => {
    it('is idempotent and keeps rows', async () => {
      const job = row({ jobName: unique('Migrate') });
      await suite.store.insert([job]);
      await suite.store.migrate();
      await suite.store.migrate();
      expect(await suite.store.find(job.id)).toEqual(job);
    });

    it('runs from three stores at once on a fresh database', async () => {
      const db = await freshDatabase();
      const stores = await Promise.all([
        open(db.connectionString),
        open(db.connectionString),
        open(db.connectionString),
      ]);
      await Promise.all(stores.map((s) => s.store.migrate()));
      const job = row();
      await stores[0].store.insert([job]);
      expect(await stores[2].store.find(job.id)).toEqual(job);
    });

    itWithSql(
      "adopts ABP 9's table without ApplicationName and CompletionTime, keeping its rows and adding neither",
      async () => {
        const legacy = backend.name === 'memory' ? undefined : legacyTables[backend.name];
        if (!legacy) throw new Error(`test/support/legacy-tables.ts has no entry for the backend "${backend.name}"`);
        const db = await freshDatabase();
        const opened = await open(db.connectionString);
        for (const statement of legacy.statements) await opened.dataSource.query(statement);

        await opened.store.migrate();
        await opened.store.migrate();

        expect(await opened.store.find(LEGACY_ROW.id)).toEqual({
          ...LEGACY_ROW,
          applicationName: null,
          completionTime: null,
        });
        // ABP's later migrations add them (test/contract/abp-migrations.test.ts); a row of no application fits.
        const newer = row();
        await opened.store.insert([newer]);
        expect(await opened.store.find(newer.id)).toEqual(newer);

        const token = leaseToken();
        const claimed = await claim({ jobNames: [LEGACY_ROW.jobName], now: at(0), leaseToken: token }, opened.store);
        expect(claimed.map((j) => j.id)).toEqual([LEGACY_ROW.id]);
        expect(claimed[0].tryCount).toBe(LEGACY_ROW.tryCount + 1);
        expect(await opened.store.complete(token, [LEGACY_ROW.id])).toBe(1);
        expect(await opened.store.find(LEGACY_ROW.id)).toBeUndefined();
      },
    );
  });

  describe('enqueue', () => {
    it("writes the batch as ABP's new rows, all sharing the batch's application and creation time", async () => {
      const jobName = unique('Enqueue');
      const creationTime = new Date('2025-06-01T08:30:00.123Z');
      const later = new Date('2025-06-01T08:31:00.456Z');
      const jobs = [
        {
          id: randomUUID(),
          jobName,
          jobArgs: '{"content":"first"}',
          priority: 15,
          nextTryTime: creationTime,
          concurrencyStamp: hex32(),
        },
        {
          id: randomUUID(),
          jobName,
          jobArgs: '{"content":"Grüße 😀"}',
          priority: 25,
          nextTryTime: later,
          concurrencyStamp: hex32(),
        },
      ];
      await suite.store.enqueue({ applicationName: 'enqueue-app', creationTime, jobs });
      for (const job of jobs) {
        expect(await suite.store.find(job.id)).toEqual({
          ...job,
          applicationName: 'enqueue-app',
          tryCount: 0,
          creationTime,
          lastTryTime: null,
          isAbandoned: false,
          completionTime: null,
          extraProperties: '{}',
        });
      }
    });

    it("writes the batch's ExtraProperties on every row, keyed or not ('{}' when it has none)", async () => {
      const jobName = unique('EnqueueExtra');
      const extraProperties = '{"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}';
      const job = () => ({
        id: randomUUID(),
        jobName,
        jobArgs: '{}',
        priority: 15,
        nextTryTime: new Date(),
        concurrencyStamp: hex32(),
      });
      const [plain, keyed] = [[job(), job()], [job()]];
      await suite.store.enqueue({ applicationName: null, creationTime: new Date(), jobs: plain, extraProperties });
      await suite.store.enqueue({
        applicationName: null,
        creationTime: new Date(),
        jobs: keyed,
        keys: [{ id: keyed[0].id, fingerprint: 'f'.repeat(64) }],
        extraProperties,
      });
      for (const { id } of [...plain, ...keyed])
        expect((await suite.store.find(id))?.extraProperties).toBe(extraProperties);
    });

    it('writes each row its own job name, and a priority and due time the whole batch shares', async () => {
      const names = [unique('EnqueueA'), unique('EnqueueB')];
      const creationTime = new Date('2025-06-01T08:30:00.123Z');
      const nextTryTime = new Date('2025-06-01T09:00:00.000Z');
      const jobs = [0, 1, 2].map((i) => ({
        id: randomUUID(),
        jobName: names[i % 2],
        jobArgs: `{"n":${i}}`,
        priority: 5,
        nextTryTime,
        concurrencyStamp: hex32(),
      }));
      await suite.store.enqueue({ applicationName: null, creationTime, jobs });
      for (const job of jobs) {
        expect(await suite.store.find(job.id)).toMatchObject({
          jobName: job.jobName,
          jobArgs: job.jobArgs,
          priority: 5,
          nextTryTime,
          creationTime,
        });
      }
    });

    it('keeps args byte for byte whatever they hold: escaped newlines, quotes, backslashes, separators', async () => {
      const jobName = unique('EnqueueText');
      const contents = [
        'line 1\nline 2\r\n',
        'tab\there "quoted" \\ back\\n',
        "\u001e\u0000 ; , | {} [] '",
        '',
        'Grüße 😀',
      ];
      const jobs = contents.map((content) => ({
        id: randomUUID(),
        jobName,
        jobArgs: JSON.stringify({ content }),
        priority: 15,
        nextTryTime: new Date(),
        concurrencyStamp: hex32(),
      }));
      await suite.store.enqueue({ applicationName: null, creationTime: new Date(), jobs });
      for (const job of jobs) expect((await suite.store.find(job.id))?.jobArgs).toBe(job.jobArgs);
      const one = { ...jobs[0], id: randomUUID(), jobArgs: JSON.stringify({ content: '\n' }) };
      await suite.store.enqueue({ applicationName: null, creationTime: new Date(), jobs: [one] });
      expect((await suite.store.find(one.id))?.jobArgs).toBe('{"content":"\\n"}');
    });

    it('writes nothing when one row of the batch is refused', async () => {
      const jobName = unique('EnqueueAtomic');
      const id = randomUUID();
      const ok = {
        id: randomUUID(),
        jobName,
        jobArgs: '{}',
        priority: 15,
        nextTryTime: new Date(),
        concurrencyStamp: hex32(),
      };
      await suite.store.enqueue({ applicationName: null, creationTime: new Date(), jobs: [{ ...ok, id }] });
      // Not toThrow(): better-sqlite3 makes its errors with the SqliteError of the first test file that loaded it, whose Error is another realm's.
      await expect(
        suite.store.enqueue({ applicationName: null, creationTime: new Date(), jobs: [ok, { ...ok, id }] }),
      ).rejects.toMatchObject({ message: expect.stringMatching(/unique|duplicate/i) as unknown });
      expect(await suite.store.find(ok.id)).toBeUndefined();
    });
  });

  describe('insert and find', () => {
    it('round-trips every column, times to the millisecond in UTC', async () => {
      const full = row({
        applicationName: unique('app'),
        jobName: unique('RoundTrip'),
        jobArgs: '{"content":"Grüße, 日本, 😀 and \\"quotes\\""}',
        tryCount: 3,
        creationTime: new Date('2024-02-29T23:59:59.001Z'),
        nextTryTime: new Date('2024-03-01T00:00:00.999Z'),
        lastTryTime: new Date('2024-02-29T23:59:59.500Z'),
        isAbandoned: true,
        priority: 25,
        completionTime: new Date('2024-03-01T01:02:03.456Z'),
        extraProperties: '{"LastError":"boom","Nested":{"a":[1,2]}}',
      });
      const sparse = row({ jobName: unique('RoundTrip'), priority: 5 });
      const largest = row({ jobName: unique('RoundTrip'), jobArgs: `"${'x'.repeat(MAX_JOB_ARGS_LENGTH - 2)}"` });
      await suite.store.insert([full, sparse, largest]);

      expect(await suite.store.find(full.id)).toEqual(full);
      expect(await suite.store.find(sparse.id)).toEqual(sparse);
      expect((await suite.store.find(largest.id))?.jobArgs).toHaveLength(MAX_JOB_ARGS_LENGTH);
      expect(await suite.store.find(randomUUID())).toBeUndefined();
    });

    it('finds an id whatever its letter case', async () => {
      const job = row({ jobName: unique('Case') });
      await suite.store.insert([job]);
      expect((await suite.store.find(job.id.toUpperCase()))?.id).toBe(job.id);
    });

    it('finds nothing for an id that is no Guid, instead of failing', async () => {
      await suite.store.insert([row({ jobName: unique('NotGuid') })]);
      for (const id of ['', 'not-a-guid', '42', `{${randomUUID()}}`, `${randomUUID()}x`])
        expect(await suite.store.find(id)).toBeUndefined();
    });
  });

  describe('claim', () => {
    it("takes rows in ABP's order: Priority DESC, TryCount ASC, NextTryTime ASC", async () => {
      const jobName = unique('Order');
      const rows = [
        row({ jobName, priority: 15, tryCount: 0, nextTryTime: at(-1000) }),
        row({ jobName, priority: 25, tryCount: 3, nextTryTime: at(-9000) }),
        row({ jobName, priority: 15, tryCount: 1, nextTryTime: at(-9000) }),
        row({ jobName, priority: 25, tryCount: 0, nextTryTime: at(-1000) }),
        row({ jobName, priority: 15, tryCount: 0, nextTryTime: at(-2000) }),
        row({ jobName, priority: 5, tryCount: 0, nextTryTime: at(-9000) }),
      ];
      await suite.store.insert(rows);
      const expected = [rows[3], rows[1], rows[4], rows[0], rows[2], rows[5]].map((r) => r.id);
      const taken: string[] = [];
      for (let i = 0; i < rows.length; i++)
        taken.push(...(await claim({ jobNames: [jobName], limit: 1 })).map((j) => j.id));
      expect(taken).toEqual(expected);
      expect(await claim({ jobNames: [jobName] })).toEqual([]);
    });

    it('respects the limit', async () => {
      const jobName = unique('Limit');
      await suite.store.insert(Array.from({ length: 5 }, () => row({ jobName })));
      expect(await claim({ jobNames: [jobName], limit: 3 })).toHaveLength(3);
      expect(await claim({ jobNames: [jobName], limit: 3 })).toHaveLength(2);
    });

    it('takes only due, live, unfinished rows', async () => {
      const jobName = unique('Due');
      const due = row({ jobName, nextTryTime: T0 });
      const early = row({ jobName, nextTryTime: at(-60_000) });
      const notYet = row({ jobName, nextTryTime: at(1) });
      const abandoned = row({ jobName, isAbandoned: true, nextTryTime: at(-60_000) });
      const completed = row({ jobName, completionTime: at(-1), nextTryTime: at(-60_000) });
      await suite.store.insert([due, early, notYet, abandoned, completed]);
      const ids = (await claim({ jobNames: [jobName] })).map((j) => j.id).sort();
      expect(ids).toEqual([due.id, early.id].sort());
      for (const untouched of [notYet, abandoned, completed])
        expect(await suite.store.find(untouched.id)).toEqual(untouched);
    });

    it('keeps applications apart: null sees only NULL rows, "a" never sees "b"', async () => {
      const jobName = unique('Apps');
      const [a, b] = [unique('a'), unique('b')];
      const none = row({ jobName, applicationName: null });
      const ofA = row({ jobName, applicationName: a });
      const ofB = row({ jobName, applicationName: b });
      await suite.store.insert([none, ofA, ofB]);
      expect((await claim({ jobNames: [jobName], applicationName: a })).map((j) => j.id)).toEqual([ofA.id]);
      expect((await claim({ jobNames: [jobName], applicationName: null })).map((j) => j.id)).toEqual([none.id]);
      expect(await suite.store.find(ofB.id)).toEqual(ofB);
      expect((await claim({ jobNames: [jobName], applicationName: b })).map((j) => j.id)).toEqual([ofB.id]);
    });

    it('takes only the given job names and leaves the others untouched', async () => {
      const [mine, other, third] = [unique('Mine'), unique('Other'), unique('Third')];
      const rows = [row({ jobName: mine }), row({ jobName: other }), row({ jobName: third }), row({ jobName: mine })];
      await suite.store.insert(rows);
      const ids = (await claim({ jobNames: [mine, third] })).map((j) => j.id).sort();
      expect(ids).toEqual([rows[0].id, rows[2].id, rows[3].id].sort());
      expect(await suite.store.find(rows[1].id)).toEqual(rows[1]);
      expect(await claim({ jobNames: [] })).toEqual([]);
    });

    it('leases the row: TryCount+1, LastTryTime=now, NextTryTime=leaseUntil, stamp=token, hidden until the lease ends', async () => {
      const jobName = unique('Lease');
      const job = row({ jobName, tryCount: 2, nextTryTime: at(-5000), lastTryTime: at(-65_000) });
      await suite.store.insert([job]);
      const token = leaseToken();
      const now = at(123);
      const [claimed] = await claim({ jobNames: [jobName], now, leaseUntil: at(30_123), leaseToken: token });
      const leased = { ...job, tryCount: 3, lastTryTime: now, nextTryTime: at(30_123), concurrencyStamp: token };
      // dueTime: the NextTryTime the row had before the claim, when the job became due.
      expect(claimed).toEqual({ ...leased, leaseToken: token, previousLeaseExpired: false, dueTime: at(-5000) });
      expect(await suite.store.find(job.id)).toEqual(leased);

      expect(await claim({ jobNames: [jobName], now: at(30_122) })).toEqual([]);
      const [again] = await claim({ jobNames: [jobName], now: at(30_123) });
      expect(again.id).toBe(job.id);
      expect(again.tryCount).toBe(4);
    });

    it('never hands one row to two concurrent claims', async () => {
      const jobName = unique('Race');
      const rows = Array.from({ length: 200 }, () => row({ jobName }));
      await suite.store.insert(rows);
      const workers = await Promise.all(Array.from({ length: 5 }, () => open()));
      const drain = async (worker: BackgroundJobStore) => {
        const mine: string[] = [];
        for (;;) {
          const batch = await claim({ jobNames: [jobName], limit: 7 }, worker);
          if (batch.length === 0) return mine;
          mine.push(...batch.map((j) => j.id));
        }
      };
      const taken = (await Promise.all(workers.map((w) => drain(w.store)))).flat();
      expect(new Set(taken).size).toBe(taken.length);
      expect(taken.sort()).toEqual(rows.map((r) => r.id).sort());
    });

    it('reports previousLeaseExpired only when the previous stamp was a lease token', async () => {
      const jobName = unique('Expired');
      const job = row({ jobName });
      await suite.store.insert([job]);
      const first = await claim({ jobNames: [jobName], leaseUntil: at(1000) });
      expect(first[0].previousLeaseExpired).toBe(false);
      const second = await claim({ jobNames: [jobName], now: at(1000), leaseUntil: at(2000) });
      expect(second[0].previousLeaseExpired).toBe(true);

      await suite.store.fail([
        {
          id: job.id,
          leaseToken: second[0].leaseToken,
          nextTryTime: at(3000),
          extraProperties: '{}',
          newStamp: hex32(),
        },
      ]);
      const afterFail = await claim({ jobNames: [jobName], now: at(3000), leaseUntil: at(4000) });
      expect(afterFail[0].previousLeaseExpired).toBe(false);

      await suite.store.release({
        leaseToken: afterFail[0].leaseToken,
        ids: [job.id],
        now: at(3500),
        newStamp: hex32(),
        undoTry: false,
      });
      const afterRelease = await claim({ jobNames: [jobName], now: at(3500) });
      expect(afterRelease[0].previousLeaseExpired).toBe(false);
    });
  });

  /** A row claimed by a worker whose lease ran out and was claimed again: the first token is stale. */
  const takenOver = async (prefix: string) => {
    const job = row({ jobName: unique(prefix) });
    await suite.store.insert([job]);
    const [stale] = await claim({ jobNames: [job.jobName], leaseUntil: at(1000) });
    const [current] = await claim({ jobNames: [job.jobName], now: at(1000), leaseUntil: at(61_000) });
    return { job, stale: stale.leaseToken, current: current.leaseToken, held: (await suite.store.find(job.id))! };
  };

  describe('complete', () => {
    it('deletes only rows still held with the token', async () => {
      const { job, stale, current, held } = await takenOver('Complete');
      expect(await suite.store.complete(stale, [job.id])).toBe(0);
      expect(await suite.store.find(job.id)).toEqual(held);
      expect(await suite.store.complete(current, [job.id, randomUUID()])).toBe(1);
      expect(await suite.store.find(job.id)).toBeUndefined();
    });

    it('deletes a whole batch', async () => {
      const jobName = unique('Batch');
      await suite.store.insert(Array.from({ length: 10 }, () => row({ jobName })));
      const claimed = await claim({ jobNames: [jobName] });
      expect(
        await suite.store.complete(
          claimed[0].leaseToken,
          claimed.map((j) => j.id),
        ),
      ).toBe(10);
    });
  });

  describe('fail', () => {
    it('writes the retry time, the error bag and a new stamp', async () => {
      const { job, current } = await takenOver('Retry');
      const stamp = hex32();
      const bag = '{"LastError":"Error: boom","LastErrorTryCount":2}';
      expect(
        await suite.store.fail([
          { id: job.id, leaseToken: current, nextTryTime: at(120_000), extraProperties: bag, newStamp: stamp },
        ]),
      ).toBe(1);
      const failed = await suite.store.find(job.id);
      expect(failed).toMatchObject({
        nextTryTime: at(120_000),
        extraProperties: bag,
        concurrencyStamp: stamp,
        isAbandoned: false,
        tryCount: 2,
      });
    });

    it('abandons with a null retry time and keeps NextTryTime', async () => {
      const { job, current, held } = await takenOver('Abandon');
      const stamp = hex32();
      expect(
        await suite.store.fail([
          { id: job.id, leaseToken: current, nextTryTime: null, extraProperties: '{"x":1}', newStamp: stamp },
        ]),
      ).toBe(1);
      expect(await suite.store.find(job.id)).toEqual({
        ...held,
        isAbandoned: true,
        extraProperties: '{"x":1}',
        concurrencyStamp: stamp,
      });
      expect(await claim({ jobNames: [job.jobName], now: at(10_000_000) })).toEqual([]);
    });

    it('is refused with a stale token', async () => {
      const { job, stale, held } = await takenOver('FailStale');
      expect(
        await suite.store.fail([
          { id: job.id, leaseToken: stale, nextTryTime: null, extraProperties: '{}', newStamp: hex32() },
        ]),
      ).toBe(0);
      expect(
        await suite.store.fail([
          { id: job.id, leaseToken: stale, nextTryTime: at(5), extraProperties: '{}', newStamp: hex32() },
        ]),
      ).toBe(0);
      expect(await suite.store.find(job.id)).toEqual(held);
    });

    it('writes several rows in one call, counting only those held', async () => {
      const jobName = unique('FailMany');
      await suite.store.insert([row({ jobName }), row({ jobName })]);
      const claimed = await claim({ jobNames: [jobName] });
      const updates = claimed.map((j, i) => ({
        id: j.id,
        leaseToken: i === 0 ? j.leaseToken : leaseToken(),
        nextTryTime: at(9000),
        extraProperties: '{}',
        newStamp: hex32(),
      }));
      expect(await suite.store.fail(updates)).toBe(1);
    });
  });

  describe('extendLeases', () => {
    it('moves NextTryTime only with the right token', async () => {
      const { job, stale, current, held } = await takenOver('Extend');
      expect(await suite.store.extendLeases(stale, [job.id], at(999_000))).toBe(0);
      expect(await suite.store.find(job.id)).toEqual(held);
      expect(await suite.store.extendLeases(current, [job.id], at(999_000))).toBe(1);
      expect(await suite.store.find(job.id)).toEqual({ ...held, nextTryTime: at(999_000) });
      expect(await claim({ jobNames: [job.jobName], now: at(998_999) })).toEqual([]);
    });
  });

  describe('release', () => {
    /** Releases one row at at(1500), under a fresh stamp and taking its try back unless told. */
    const release = (leaseToken: string, id: string, options: { newStamp?: string; undoTry?: boolean } = {}) =>
      suite.store.release({ leaseToken, ids: [id], now: at(1500), newStamp: hex32(), undoTry: true, ...options });

    it('makes rows due now under a new stamp, keeping the try', async () => {
      const { job, current, held } = await takenOver('Release');
      const stamp = hex32();
      expect(await release(current, job.id, { newStamp: stamp, undoTry: false })).toBe(1);
      expect(await suite.store.find(job.id)).toEqual({ ...held, nextTryTime: at(1500), concurrencyStamp: stamp });
      expect((await claim({ jobNames: [job.jobName], now: at(1500) })).map((j) => j.id)).toEqual([job.id]);
    });

    it('takes the try back with undoTry', async () => {
      const { job, current, held } = await takenOver('Undo');
      expect(await release(current, job.id)).toBe(1);
      expect((await suite.store.find(job.id))?.tryCount).toBe(held.tryCount - 1);
    });

    it('is refused with a stale token', async () => {
      const { job, stale, held } = await takenOver('ReleaseStale');
      expect(await release(stale, job.id)).toBe(0);
      expect(await suite.store.find(job.id)).toEqual(held);
    });
  });

  describe('count', () => {
    it('counts by application name, NULL, and in all', async () => {
      const app = unique('count');
      const [all, nulls] = [await suite.store.count(), await suite.store.count(null)];
      await suite.store.insert([
        row({ applicationName: app }),
        row({ applicationName: app }),
        row({ applicationName: null }),
      ]);
      expect(await suite.store.count(app)).toBe(2);
      expect(await suite.store.count(unique('nobody'))).toBe(0);
      expect(await suite.store.count(null)).toBe(nulls + 1);
      expect(await suite.store.count()).toBe(all + 3);
    });
  });

  describe('isUnavailable', () => {
    itWithSql('is true when the database cannot be reached', async () => {
      const error = await unreachableError(backend.name, backend.provider);
      expect(suite.store.isUnavailable(error)).toBe(true);
    });

    it('is false for a statement the database refuses', async () => {
      const job = row({ jobName: unique('Duplicate') });
      await suite.store.insert([job]);
      const error = await suite.store.insert([job]).catch((e: unknown) => e);
      expect(error).toBeDefined();
      expect(suite.store.isUnavailable(error)).toBe(false);
      expect(suite.store.isUnavailable(new Error('something else'))).toBe(false);
    });
  });
});

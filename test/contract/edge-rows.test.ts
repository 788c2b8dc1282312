import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { BackgroundJobRecord, ClaimedJob, ClaimRequest, MAX_JOB_ARGS_LENGTH } from '@app/background-jobs';
import { Backend, backends } from '../support/backends';
import { jobRecord } from '../support/job-records';
import { describeOnStoreBackends } from '../support/store-suite';

/**
 * No value in any row can make a claim fail for the rows around it. Each test writes rows at the
 * edges of their column types and of the drivers' parsers straight into the table with SQL, next
 * to good rows, and claims: the good rows are claimed, a row that cannot be read is abandoned
 * (with the reason as LastError and a log line naming it), nothing stays leased to nobody, and
 * the next claims work too.
 */
jest.setTimeout(60_000);

type Row = Record<string, unknown>;

const T0 = new Date('2030-06-15T12:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const hex32 = () => randomBytes(16).toString('hex');
/** A job name at its column's limit (128), unique per test. */
const jobName = () => `Edge-${randomBytes(4).toString('hex')}-`.padEnd(128, 'n');

const row = (name: string, overrides: Partial<BackgroundJobRecord> = {}) =>
  jobRecord({ jobName: name, jobArgs: '{"value":1}', creationTime: T0, nextTryTime: T0, ...overrides });

describeOnStoreBackends('rows at the edges: %s', backends, (suite) => {
  const { backend } = suite;
  let logged: jest.SpyInstance;

  const q = (name: string) =>
    backend.name === 'mysql' ? `\`${name}\`` : backend.name === 'sqlserver' ? `[${name}]` : `"${name}"`;
  const TABLE = () => q('AbpBackgroundJobs');
  /** The Id as the table holds it: the SQLite store writes ids in upper case, as EF Core does. */
  const storedId = (id: string) => (backend.name === 'sqlite' && id === id.toLowerCase() ? id.toUpperCase() : id);
  /** Writes a value the store itself would never write: SQL text, straight into the table. */
  const set = (id: string, column: string, sqlValue: string) =>
    suite.opened.dataSource.query(
      `UPDATE ${TABLE()} SET ${q(column)} = ${sqlValue} WHERE ${q('Id')} = '${storedId(id)}'`,
    );
  /** Read raw, as the store's find may not read such rows. */
  const raw = async (where: string): Promise<Row> =>
    (
      await suite.opened.dataSource.query<Row[]>(
        `SELECT ${q('IsAbandoned')} AS a, ${q('ExtraProperties')} AS e, ${q('ConcurrencyStamp')} AS s, ${q('TryCount')} AS t FROM ${TABLE()} WHERE ${where}`,
      )
    )[0];
  const rawById = (id: string) => raw(`${q('Id')} = '${storedId(id)}'`);
  const claim = (name: string, request: Partial<ClaimRequest> = {}): Promise<ClaimedJob[]> =>
    suite.store.claim({
      applicationName: null,
      jobNames: [name],
      limit: 100,
      now: T0,
      leaseUntil: at(60_000),
      leaseToken: `lease:${hex32()}`,
      ...request,
    });
  const ids = (jobs: ClaimedJob[]) => jobs.map((j) => j.id).sort();

  /** The row is abandoned under a new plain stamp, with the reason as LastError, and a log line names it. */
  const expectAbandoned = async (stored: Row, id: string, reason: string | RegExp) => {
    expect(Number(stored.a)).toBe(1);
    expect(stored.s).toMatch(/^[0-9a-f]{32}$/);
    expect((JSON.parse(stored.e as string) as { LastError?: string }).LastError).toMatch(reason);
    expect(
      logged.mock.calls.some(
        ([message]) => String(message).toLowerCase().includes(id.toLowerCase()) && String(message).match(reason),
      ),
    ).toBe(true);
  };

  beforeEach(() => {
    logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });

  afterEach(() => logged.mockRestore());

  it('claims a row at the top of TryCount (32767) keeping its count, beside rows at their length and Priority limits, claim after claim', async () => {
    const name = jobName();
    const app = `app-${randomBytes(3).toString('hex')}-`.padEnd(96, 'a');
    const top = row(name, { applicationName: app, tryCount: 32_767, priority: 20 });
    const longest = [
      row(name, { applicationName: app, concurrencyStamp: 'c'.repeat(40), priority: 255 }),
      row(name, {
        applicationName: app,
        jobArgs: JSON.stringify({ text: 'x'.repeat(MAX_JOB_ARGS_LENGTH - 20) }),
        priority: 0,
      }),
    ];
    await suite.store.insert([top, ...longest]);

    for (const now of [T0, at(120_000)]) {
      const claimed = await claim(name, { applicationName: app, now, leaseUntil: new Date(now.getTime() + 60_000) });
      expect(ids(claimed)).toEqual([top.id, ...longest.map((r) => r.id)].sort());
      expect(claimed.find((j) => j.id === top.id)!.tryCount).toBe(32_767);
      expect(Number((await rawById(top.id)).t)).toBe(32_767);
      expect(claimed.find((j) => j.id === longest[1].id)!.jobArgs).toBe(longest[1].jobArgs);
    }
  });

  it('claims only the exact job names it asks for: a trailing space or another case is another name', async () => {
    const name = `Exact-${randomBytes(4).toString('hex')}`;
    const exact = row(name);
    const lookAlikes = [row(`${name} `), row(name.toUpperCase()), row(name.toLowerCase())];
    await suite.store.insert([exact, ...lookAlikes]);

    expect(ids(await claim(name))).toEqual([exact.id]);
    for (const other of lookAlikes) {
      expect(await suite.store.find(other.id)).toMatchObject({
        tryCount: 0,
        isAbandoned: false,
        concurrencyStamp: other.concurrencyStamp,
      });
    }
    expect(ids(await claim(`${name} `))).toEqual([lookAlikes[0].id]);
  });

  const unreadableTimes: Partial<Record<Backend['name'], string[]>> = {
    sqlite: [`'not a time'`, '1700000000', `'2030-02-30 12:00:00'`],
    postgres: [`'infinity'`, `'-infinity'`, `'0001-01-01 00:00:00 BC'`],
    mysql: [`'0000-00-00 00:00:00'`, `'2030-00-00 00:00:00'`],
  };
  const times = unreadableTimes[backend.name] ?? [];
  (times.length ? it : it.skip)(
    `abandons rows whose CreationTime cannot be read (${times.join(', ')}), naming them, and claims the rows beside them, claim after claim`,
    async () => {
      const name = jobName();
      const good = [row(name), row(name, { priority: 5 })];
      const bagsBefore = ['not json', '[1]', '{"TenantId":"t1"}'];
      const bad = times.map((_, i) => row(name, { priority: 10, extraProperties: bagsBefore[i % bagsBefore.length] }));
      await suite.store.insert([...good, ...bad]);
      for (const [i, value] of times.entries()) await set(bad[i].id, 'CreationTime', value);

      const token = `lease:${hex32()}`;
      const claimed = await claim(name, { leaseToken: token });
      expect(ids(claimed)).toEqual(good.map((r) => r.id).sort());
      for (const [i, r] of bad.entries()) {
        const stored = await rawById(r.id);
        await expectAbandoned(stored, r.id, /CreationTime is not a time/);
        const bag = JSON.parse(stored.e as string) as { OriginalExtraProperties?: unknown; TenantId?: string };
        if (i % 3 === 0) expect(bag.OriginalExtraProperties).toBe('not json');
        if (i % 3 === 1) expect(bag.OriginalExtraProperties).toEqual([1]);
        if (i % 3 === 2) expect(bag.TenantId).toBe('t1');
      }
      // Nothing stays leased to nobody: every row holding the token was returned.
      const held = await suite.opened.dataSource.query<Row[]>(
        `SELECT ${q('Id')} AS id FROM ${TABLE()} WHERE ${q('ConcurrencyStamp')} = '${token}'`,
      );
      expect(held.map((h: Row) => String(h.id).toLowerCase()).sort()).toEqual(ids(claimed));

      const again = await claim(name, { now: at(120_000), leaseUntil: at(180_000) });
      expect(ids(again)).toEqual(good.map((r) => r.id).sort());
    },
  );

  it('reads CreationTime in the years 1 and 9999 as written', async () => {
    const name = jobName();
    const first = row(name);
    const last = row(name);
    await suite.store.insert([first, last]);
    await set(first.id, 'CreationTime', `'0001-01-01 00:00:00'`);
    await set(last.id, 'CreationTime', `'9999-12-31 23:59:59.999'`);

    const claimed = await claim(name);
    expect(claimed.find((j) => j.id === first.id)?.creationTime.toISOString()).toBe('0001-01-01T00:00:00.000Z');
    expect(claimed.find((j) => j.id === last.id)?.creationTime.toISOString()).toBe('9999-12-31T23:59:59.999Z');
  });

  (backend.name === 'postgres' ? it : it.skip)("claims a row due since '-infinity' like any other, first", async () => {
    const name = jobName();
    const rows = [row(name), row(name), row(name)];
    await suite.store.insert(rows);
    await set(rows[2].id, 'NextTryTime', `'-infinity'`);
    await set(rows[2].id, 'LastTryTime', `'infinity'`);

    const claimed = await claim(name);
    expect(claimed.map((j) => j.id)[0]).toBe(rows[2].id);
    expect(ids(claimed)).toEqual(rows.map((r) => r.id).sort());
    expect(await claim(name, { now: at(120_000), leaseUntil: at(180_000) })).toHaveLength(3);
  });

  (backend.name === 'sqlite' ? it : it.skip)(
    'abandons rows whose Priority or TryCount SQLite holds as text, and claims the rest',
    async () => {
      const name = jobName();
      const good = [row(name), row(name, { priority: 1000 }), row(name, { priority: -1 })];
      const bad = [row(name), row(name)];
      await suite.store.insert([...good, ...bad]);
      await set(bad[0].id, 'Priority', `'high'`);
      await set(bad[1].id, 'TryCount', `'many'`);

      const claimed = await claim(name);
      expect(ids(claimed)).toEqual(good.map((r) => r.id).sort());
      await expectAbandoned(await rawById(bad[0].id), bad[0].id, /Priority is not a whole number: "high"/);
      await expectAbandoned(await rawById(bad[1].id), bad[1].id, /TryCount is not a whole number: "many"/);
      expect(ids(await claim(name, { now: at(120_000), leaseUntil: at(180_000) }))).toEqual(
        good.map((r) => r.id).sort(),
      );
    },
  );

  (backend.name === 'sqlite' ? it : it.skip)(
    'abandons rows whose Id is a blob or in mixed case, which no later write could find, and never lets them hold a claim up',
    async () => {
      const name = jobName();
      const good = row(name);
      const blob = row(name, { priority: 30 });
      const mixed = row(name, { priority: 20 });
      await suite.store.insert([good, blob, mixed]);
      const blobHex = randomBytes(16).toString('hex');
      await set(blob.id, 'Id', `X'${blobHex}'`);
      const mixedId = mixed.id.slice(0, 8).toUpperCase() + mixed.id.slice(8);
      await set(mixed.id, 'Id', `'${mixedId}'`);

      // One row per claim: the bad rows come first in ABP's order.
      const claimed: ClaimedJob[] = [];
      for (let i = 0; i < 3; i++) claimed.push(...(await claim(name, { limit: 1 })));
      expect(ids(claimed)).toEqual([good.id]);
      await expectAbandoned(await raw(`${q('Id')} = X'${blobHex}'`), '16-byte blob', /Id is not text: a 16-byte blob/);
      await expectAbandoned(await rawById(mixedId), mixedId, /Id mixes upper and lower case/);
    },
  );
});

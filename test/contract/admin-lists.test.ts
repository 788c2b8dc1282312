import { randomBytes } from 'node:crypto';
import {
  AdminInputError,
  BackgroundJobRecord,
  JobListQuery,
  JobState,
  JobView,
  LISTED_ARGS_LENGTH,
  MAX_JOB_ARGS_LENGTH,
  resolveOptions,
  StoreBackgroundJobsAdmin,
} from '@app/background-jobs';
import { rowIn } from '../support/admin-rows';
import { storeBackends } from '../support/backends';
import { describeOnStoreBackends } from '../support/store-suite';

/**
 * The management service's lists and get(), on every backend: keyset pages return every row of a
 * state once, in the state's order; filters; bad cursors and limits refused; hostile rows intact.
 * Each test keeps to job names of its own, so tests never see each other's rows.
 */
jest.setTimeout(60_000);

const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;
const MINUTE = 60_000;

describeOnStoreBackends('BackgroundJobsAdmin lists: %s', storeBackends, (suite) => {
  const admin = () => new StoreBackgroundJobsAdmin(suite.store, resolveOptions({}));

  async function pages(query: JobListQuery): Promise<JobView[][]> {
    const all: JobView[][] = [];
    let after: string | undefined;
    do {
      const page = await admin().list({ ...query, after });
      all.push(page.items);
      after = page.next ?? undefined;
    } while (after);
    return all;
  }

  const orders: Array<[JobState, (row: BackgroundJobRecord) => number, 'ascending' | 'descending']> = [
    ['waiting', (r) => r.nextTryTime.getTime(), 'ascending'],
    ['scheduled', (r) => r.nextTryTime.getTime(), 'ascending'],
    ['retrying', (r) => r.nextTryTime.getTime(), 'ascending'],
    ['processing', (r) => r.nextTryTime.getTime(), 'ascending'],
    ['abandoned', (r) => r.creationTime.getTime(), 'descending'],
    ['succeeded', (r) => r.completionTime!.getTime(), 'descending'],
  ];

  it.each(orders)('pages through %s rows: every row once, in order, ties and all', async (state, key, direction) => {
    const jobName = unique(`Paging-${state}`);
    const now = Date.now();
    // 23 rows: 7 pages of 3 with one short; some share their sort time (the Id breaks the tie).
    const rows = Array.from({ length: 23 }, (_, i) => {
      const offset = (i % 8) * MINUTE + 1000;
      const time = new Date((state === 'waiting' || state === 'retrying' ? now - 30 * MINUTE : now + MINUTE) + offset);
      const past = new Date(now - 50 * MINUTE + offset);
      const times: Partial<Record<JobState, Partial<BackgroundJobRecord>>> = {
        waiting: { nextTryTime: time },
        scheduled: { nextTryTime: time },
        retrying: { nextTryTime: i % 2 ? time : new Date(now + 10 * MINUTE + offset) },
        processing: { nextTryTime: time },
        abandoned: { creationTime: past },
        succeeded: { completionTime: past },
      };
      return rowIn(state, { jobName, ...times[state] });
    });
    await suite.store.insert(rows);

    const listed = await pages({ state, jobName, limit: 3 });
    expect(listed.map((page) => page.length)).toEqual([3, 3, 3, 3, 3, 3, 3, 2]);
    const ids = listed.flat().map((item) => item.id);
    expect([...ids].sort()).toEqual(rows.map((r) => r.id).sort());
    const byId = new Map(rows.map((r) => [r.id, r]));
    const keys = ids.map((id) => key(byId.get(id)!));
    const sorted = [...keys].sort((a, b) => (direction === 'ascending' ? a - b : b - a));
    expect(keys).toEqual(sorted);
    expect(listed.flat().every((item) => item.state === state && item.jobName === jobName)).toBe(true);
  });

  it('filters by job name and application name (null: rows of no application)', async () => {
    const [one, other] = [unique('FilterOne'), unique('FilterOther')];
    const rows = [
      rowIn('waiting', { jobName: one, applicationName: null }),
      rowIn('waiting', { jobName: one, applicationName: 'app-a' }),
      rowIn('waiting', { jobName: one, applicationName: 'app-b' }),
      rowIn('waiting', { jobName: other, applicationName: 'app-a' }),
    ];
    await suite.store.insert(rows);
    const ids = async (query: Omit<JobListQuery, 'state'>) =>
      (await admin().list({ state: 'waiting', limit: 500, ...query })).items.map((item) => item.id).sort();
    expect(await ids({ jobName: one })).toEqual([rows[0].id, rows[1].id, rows[2].id].sort());
    expect(await ids({ jobName: one, applicationName: null })).toEqual([rows[0].id]);
    expect(await ids({ jobName: one, applicationName: 'app-a' })).toEqual([rows[1].id]);
    expect(await ids({ jobName: other, applicationName: 'app-b' })).toEqual([]);
  });

  it('refuses a bad state, limit or cursor with AdminInputError, and a cursor of another state', async () => {
    const jobName = unique('Cursor');
    await suite.store.insert([rowIn('waiting', { jobName }), rowIn('waiting', { jobName })]);
    const { next } = await admin().list({ state: 'waiting', jobName, limit: 1 });
    expect(next).toEqual(expect.any(String));
    const refused = (query: JobListQuery) =>
      admin()
        .list(query)
        .then(
          () => undefined,
          (error: unknown) => error,
        );
    for (const query of [
      { state: 'running' as JobState },
      { state: 'waiting' as JobState, limit: 0 },
      { state: 'waiting' as JobState, limit: 501 },
      { state: 'waiting' as JobState, limit: 2.5 },
      { state: 'waiting' as JobState, after: 'not-a-cursor!' },
      { state: 'waiting' as JobState, after: Buffer.from('["waiting","x","y"]').toString('base64url') },
      { state: 'waiting' as JobState, after: Buffer.from('{"a":1}').toString('base64url') },
      { state: 'scheduled' as JobState, after: next! },
    ])
      expect([query, await refused(query)]).toEqual([query, expect.any(AdminInputError)]);
    expect((await admin().list({ state: 'waiting', jobName, after: next! })).items).toHaveLength(1);
  });

  it('returns hostile rows intact: markup, quotes, control characters, odd names, 1 MB args (cut in lists only)', async () => {
    const odd = `<script>alert("x")</script> ${unique('Odd')} 'quoted' \u0000? ü 😀 `;
    const hostileArgs = JSON.stringify({ html: '<script>alert(1)</script>', quote: `"'\`\\`, nl: 'a\nb\u2028c' });
    const huge = JSON.stringify({ blob: 'x'.repeat(MAX_JOB_ARGS_LENGTH - 20) });
    const rows = [
      rowIn('abandoned', {
        jobName: odd.replace('\u0000', ''),
        jobArgs: hostileArgs,
        applicationName: '<b>app</b>',
        extraProperties: JSON.stringify({ LastError: '<img src=x onerror=alert(1)>\n  at evil()' }),
      }),
      rowIn('abandoned', { jobName: odd.replace('\u0000', ''), jobArgs: huge }),
    ];
    await suite.store.insert(rows);
    const service = admin();
    for (const row of rows) {
      const view = await service.get(row.id);
      expect(view).toMatchObject({
        id: row.id,
        jobName: row.jobName,
        jobArgs: row.jobArgs,
        applicationName: row.applicationName,
        extraProperties: row.extraProperties,
        state: 'abandoned',
      });
      expect(view!.jobArgsTruncated).toBeUndefined();
    }
    const listed = (await service.list({ state: 'abandoned', jobName: rows[0].jobName })).items;
    const [hostile, big] = [listed.find((i) => i.id === rows[0].id)!, listed.find((i) => i.id === rows[1].id)!];
    expect(hostile.jobArgs).toBe(hostileArgs);
    expect(hostile.jobArgsTruncated).toBeUndefined();
    expect(big.jobArgs).toBe(huge.slice(0, LISTED_ARGS_LENGTH));
    expect(big.jobArgsTruncated).toBe(true);
  });

  it('get(): a job with its state and every column; undefined for an unknown id or one that is no UUID', async () => {
    const row = rowIn('retrying', { jobName: unique('Get'), priority: 25, applicationName: 'app' });
    await suite.store.insert([row]);
    expect(await admin().get(row.id.toUpperCase())).toEqual({
      id: row.id,
      applicationName: 'app',
      jobName: row.jobName,
      jobArgs: row.jobArgs,
      tryCount: 2,
      creationTime: row.creationTime.toISOString(),
      nextTryTime: row.nextTryTime.toISOString(),
      lastTryTime: row.lastTryTime!.toISOString(),
      isAbandoned: false,
      priority: 25,
      completionTime: null,
      extraProperties: row.extraProperties,
      concurrencyStamp: row.concurrencyStamp,
      state: 'retrying',
    });
    expect(await admin().get('00000000-0000-4000-8000-000000000000')).toBeUndefined();
    expect(await admin().get("1' OR '1'='1")).toBeUndefined();
  });
});

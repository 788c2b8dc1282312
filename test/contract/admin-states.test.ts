import {
  BackgroundJobRecord,
  BackgroundJobStore,
  JOB_STATES,
  JobState,
  resolveOptions,
  StoreBackgroundJobsAdmin,
} from '@app/background-jobs';
import { edgeRows, rowIn } from '../support/admin-rows';
import { storeBackends } from '../support/backends';
import { describeOnStoreBackends } from '../support/store-suite';

/**
 * The management service's counts and states, on every backend: each row is in exactly one state,
 * stats() and list() agree with get(), and big tables are counted from the database's estimate.
 * A fresh database per test: stats() counts the whole table.
 */
jest.setTimeout(60_000);

const admin = (store: BackgroundJobStore, worker: object = {}) =>
  new StoreBackgroundJobsAdmin(store, resolveOptions({ worker }));

/** Every row of a list, following its cursors. */
async function listAll(service: StoreBackgroundJobsAdmin, state: JobState, jobName?: string) {
  const ids: string[] = [];
  let after: string | undefined;
  do {
    const page = await service.list({ state, jobName, limit: 3, after });
    ids.push(...page.items.map((item) => item.id));
    after = page.next ?? undefined;
  } while (after);
  return ids;
}

describeOnStoreBackends(
  'BackgroundJobsAdmin states: %s',
  storeBackends,
  (suite) => {
    const { backend } = suite;
    const itWithSql = backend.sql
      ? it
      : (name: string) => it.skip(`${name} (skipped: ${backend.name} counts exactly)`, () => undefined);

    it('puts each row in exactly one state: stats, every list and get() agree', async () => {
      const rows: Array<[JobState, BackgroundJobRecord]> = [
        ...JOB_STATES.flatMap((state) => [
          [state, rowIn(state, { jobName: 'A' })] as [JobState, BackgroundJobRecord],
          [state, rowIn(state, { jobName: 'B' })] as [JobState, BackgroundJobRecord],
        ]),
        ...edgeRows('Edge'),
      ];
      await suite.store.insert(rows.map(([, row]) => row));
      const service = admin(suite.store);

      for (const [state, row] of rows)
        expect([row.jobName, (await service.get(row.id))?.state]).toEqual([row.jobName, state]);

      const listed = new Map<string, JobState[]>();
      for (const state of JOB_STATES)
        for (const id of await listAll(service, state)) listed.set(id, [...(listed.get(id) ?? []), state]);
      expect(Object.fromEntries(listed)).toEqual(Object.fromEntries(rows.map(([state, row]) => [row.id, [state]])));

      const expected = (jobName?: string) => {
        const counts = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
        for (const [state, row] of rows) if (jobName === undefined || row.jobName === jobName) counts[state]++;
        return counts;
      };
      const stats = await service.stats();
      expect(stats).toEqual({
        ...expected(),
        byJobName: { A: expected('A'), B: expected('B'), Edge: expected('Edge') },
        estimated: false,
      });
      expect(Object.keys(stats.byJobName)).toEqual(['A', 'B', 'Edge']);
    });

    it('says succeeded is null while no succeeded row is kept, and 0 when StoreSuccessfulJobs keeps them', async () => {
      await suite.store.insert([rowIn('waiting', { jobName: 'A' })]);
      expect(await admin(suite.store).stats()).toMatchObject({
        waiting: 1,
        succeeded: null,
        byJobName: { A: { waiting: 1, succeeded: null } },
      });
      expect(await admin(suite.store).history()).toBeNull();
      expect(await admin(suite.store, { storeSuccessfulJobs: true }).stats()).toMatchObject({
        succeeded: 0,
        byJobName: { A: { succeeded: 0 } },
      });
    });

    it('history(): per minute of the last hour, succeeded from CompletionTime and failed from the last try', async () => {
      const now = Date.now();
      const minuteOf = (ms: number) => new Date(Math.floor(ms / 60_000) * 60_000).toISOString();
      await suite.store.insert([
        rowIn('succeeded', { completionTime: new Date(now - 10 * 60_000) }),
        rowIn('succeeded', { completionTime: new Date(now - 10 * 60_000) }),
        rowIn('succeeded', { completionTime: new Date(now - 2 * 60 * 60_000) }),
        rowIn('retrying', { lastTryTime: new Date(now - 10 * 60_000) }),
        rowIn('abandoned', { lastTryTime: new Date(now - 30 * 60_000) }),
        rowIn('processing', { lastTryTime: new Date(now - 10 * 60_000) }),
        rowIn('waiting'),
      ]);
      const history = (await admin(suite.store, { storeSuccessfulJobs: true }).history())!;
      expect(history.length).toBeGreaterThanOrEqual(60);
      expect(history.length).toBeLessThanOrEqual(61);
      expect(history.filter((p) => p.succeeded || p.failed)).toEqual([
        { minute: minuteOf(now - 30 * 60_000), succeeded: 0, failed: 1 },
        { minute: minuteOf(now - 10 * 60_000), succeeded: 2, failed: 1 },
      ]);
    });

    itWithSql(
      'estimates the states of a table above the exact bound, and still counts the rare ones exactly',
      async () => {
        const rows = [
          ...Array.from({ length: 60 }, () => rowIn('waiting', { jobName: 'Bulk' })),
          ...Array.from({ length: 30 }, () => rowIn('scheduled', { jobName: 'Bulk' })),
          rowIn('abandoned', { jobName: 'Rare' }),
          rowIn('processing', { jobName: 'Rare' }),
        ];
        await suite.store.insert(rows);
        const counts = await suite.store.admin.countStates(new Date(), 20);
        const of = (state: JobState) => counts.filter((c) => c.state === state);
        expect(of('abandoned')).toEqual([{ jobName: 'Rare', state: 'abandoned', count: 1, estimated: false }]);
        // MySQL has no partial index that holds only leased rows: its estimate of them is every live
        // row the lease test would read (EXPLAIN), too many to count exactly, so it stays an estimate.
        if (backend.name !== 'mysql')
          expect(of('processing')).toEqual([{ jobName: 'Rare', state: 'processing', count: 1, estimated: false }]);
        else expect(of('processing')).toEqual([expect.objectContaining({ jobName: 'Rare', state: 'processing' })]);
        expect(of('retrying')).toEqual([]);
        // An estimate, but of the right size: a sample of a table this small reads most of it.
        for (const [state, real] of [
          ['waiting', 60],
          ['scheduled', 30],
        ] as const) {
          const [estimate] = of(state);
          expect(estimate).toMatchObject({ jobName: 'Bulk', estimated: true });
          expect(Number.isInteger(estimate.count)).toBe(true);
          expect(estimate.count).toBeGreaterThan(real / 3);
          expect(estimate.count).toBeLessThan(real * 3);
        }
        expect(await suite.store.admin.countStates(new Date(), 100)).toEqual(
          expect.arrayContaining([{ jobName: 'Bulk', state: 'waiting', count: 60, estimated: false }]),
        );
      },
    );
  },
  { perTest: true },
);

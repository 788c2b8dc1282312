import { JOB_STATES } from '@app/background-jobs/admin/background-jobs-admin.types';
import type { BackgroundJobStore, ClaimRequest } from '@app/background-jobs/store/background-job-store';
import type { ScheduleRecord } from '@app/background-jobs/store/schedule-store';
import type { QueryOptions, SqlParam } from '@app/background-jobs/store/dialects/mssql-runner';
import { MssqlBackgroundJobStore } from '@app/background-jobs/store/dialects/mssql.dialect';
import { ABP_TABLE_SHAPE, TableShape, tableColumns } from '@app/background-jobs/store/table-shape';
import { ABP_10_6_INDEX, ABP_9_INDEX, catalogRows } from './migration-catalog';
import { TableNameOptions, TableNames } from '@app/background-jobs/store/table-names';
import { claimedRow, ID1, ID2, LEASE, record, T0 } from './fixtures';
import { RecordingSqlRunner } from './recording-sql-runner';

/**
 * Every statement the SQL Server store sends, recorded at the driver boundary while every store
 * method runs through the store's interface, down every branch that sends a different statement:
 * the store's own methods, and those of its parts (SUB_STORES: the management service's `admin`,
 * `heartbeats`, `uniqueJobs`, `schedules`, `cancellations`), noted as `<part>.<method>`. A method added later shows up as
 * not covered (see coveredMethods) until a scenario here runs it: add one to SCENARIOS.
 */

/** One statement with what it was sent with, and the scenario that sent it first. */
export interface RecordedStatement {
  /** `<store method>-<branch>`, for file names and messages. */
  scenario: string;
  /** The store method the caller called (the statement may come from a helper under it). */
  method: string;
  sql: string;
  params: SqlParam[];
  options: QueryOptions | undefined;
}

export interface StoreRecording {
  /** Each distinct statement (text and parameter types) once, in the order first sent. */
  statements: RecordedStatement[];
  /** The store methods the scenarios called (`admin.list`, `heartbeats.beat` for the sub-stores'), sorted. */
  coveredMethods: string[];
}

const idOf = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

const claimRequest = (overrides: Partial<ClaimRequest> = {}): ClaimRequest => ({
  applicationName: 'app',
  jobNames: ['MyReportJobArgs', 'Other'],
  limit: 10,
  now: T0,
  leaseUntil: new Date(T0.getTime() + 60_000),
  leaseToken: LEASE,
  ...overrides,
});

const enqueueBatch = (count: number, keyed: boolean) => ({
  applicationName: 'app',
  creationTime: T0,
  jobs: Array.from({ length: count }, (_, i) => ({
    id: idOf(i),
    jobName: 'MyReportJobArgs',
    jobArgs: '{}',
    priority: 15,
    nextTryTime: T0,
    concurrencyStamp: '0123456789abcdef0123456789abcdef',
  })),
  ...(keyed ? { keys: Array.from({ length: count }, (_, i) => ({ id: idOf(i), fingerprint: 'ab'.repeat(32) })) } : {}),
});

interface Scenario {
  name: string;
  /** `shape`: the table's, as the store found it. */
  run(store: BackgroundJobStore, sql: RecordingSqlRunner, shape: TableShape): Promise<unknown>;
}

/** The tables the scenarios run on: ABP 10.6's (the one migrate() creates), and the older ones it adopts. */
const SHAPES: Array<{ label: string; shape: TableShape }> = [
  { label: 'abp10.6', shape: ABP_TABLE_SHAPE },
  { label: 'abp9.2', shape: { applicationName: true, completionTime: false } },
  { label: 'abp9.1', shape: { applicationName: false, completionTime: false } },
];
const ABP_9_1: TableShape = { applicationName: false, completionTime: false };

/** ABP's own index on a table of this shape, as ABP's migrations leave it. */
const abpIndexOf = (shape: TableShape) => (shape.completionTime ? ABP_10_6_INDEX : ABP_9_INDEX);

/** The migration on a table of `shape` as the catalog finds it: none, ABP's alone, ready, or made for ABP 9.1 before ABP's migrations. */
const MIGRATE_SCENARIOS: Scenario[] = [
  { name: 'migrate-no-table', run: (store, sql) => (sql.reply({ rows: catalogRows(undefined) }), store.migrate()) },
  {
    name: 'migrate-adopting-abp-table',
    run: (store, sql, shape) => (
      sql.reply({ rows: catalogRows(shape, { abpIndex: abpIndexOf(shape) }) }),
      store.migrate()
    ),
  },
  {
    name: 'migrate-ready-table',
    run: (store, sql, shape) => (
      sql.reply({ rows: catalogRows(shape, { abpIndex: abpIndexOf(shape), oursFor: shape }) }),
      store.migrate()
    ),
  },
  {
    name: 'migrate-after-abp-migrations',
    run: (store, sql, shape) => (
      sql.reply({ rows: catalogRows(shape, { abpIndex: abpIndexOf(shape), oursFor: ABP_9_1 }) }),
      store.migrate()
    ),
  },
];

const many = (count: number) => Array.from({ length: count }, (_, i) => idOf(i));
const CURSOR = { time: '2030-06-15 12:00:00.1234567', id: ID1.toUpperCase() };

/**
 * The management service's store: every state's list with every filter and without (the text
 * changes with each), counts of a small table and of a big one (sampled, then each state counted
 * exactly through its own indexes), and the actions on one id and on a statement's worth.
 */
const ADMIN_SCENARIOS: Scenario[] = [
  {
    name: 'admin.countStates-small-table',
    run: (store, sql) => (sql.reply({ rows: [{ n: 10 }] }, { rows: [{ n: 10 }] }), store.admin.countStates(T0, 100)),
  },
  {
    name: 'admin.countStates-big-table',
    run: (store, sql) =>
      // A table of 3,000,000 rows is sampled; each state the sample puts at a few rows is then counted exactly.
      (
        sql.reply(
          { rows: [{ n: 3_000_000 }] },
          { rows: JOB_STATES.map((state) => ({ jobName: 'MyReportJobArgs', state, n: 1 })) },
        ),
        store.admin.countStates(T0, 100_000)
      ),
  },
  ...JOB_STATES.flatMap((state): Scenario[] => [
    {
      name: `admin.list-${state}-every-filter-after-a-cursor`,
      run: (store) =>
        store.admin.list({
          state,
          now: T0,
          limit: 51,
          jobName: 'MyReportJobArgs',
          applicationName: 'app',
          after: CURSOR,
        }),
    },
    {
      name: `admin.list-${state}-of-a-job-name-after-a-cursor`,
      run: (store) => store.admin.list({ state, now: T0, limit: 50, jobName: 'MyReportJobArgs', after: CURSOR }),
    },
    { name: `admin.list-${state}-first-page`, run: (store) => store.admin.list({ state, now: T0, limit: 50 }) },
    {
      name: `admin.list-${state}-without-application`,
      run: (store) => store.admin.list({ state, now: T0, limit: 50, applicationName: null }),
    },
  ]),
  { name: 'admin.read', run: (store) => store.admin.read([ID1, ID2]) },
  {
    name: 'admin.requeue',
    run: (store, sql) => (
      sql.reply({ rows: [{ Id: ID1.toUpperCase() }] }),
      store.admin.requeue(
        [
          { id: ID1, expectedStamp: 'a'.repeat(32), extraProperties: '{"ErrorHistory":[]}', newStamp: 'b'.repeat(32) },
          { id: ID2, expectedStamp: 'c'.repeat(32), extraProperties: '{}', newStamp: 'd'.repeat(32) },
        ],
        T0,
      )
    ),
  },
  {
    name: 'admin.requeue-many',
    run: (store) =>
      store.admin.requeue(
        many(1000).map((id) => ({
          id,
          expectedStamp: 'a'.repeat(32),
          extraProperties: '{}',
          newStamp: 'b'.repeat(32),
        })),
        T0,
      ),
  },
  { name: 'admin.runNow', run: (store) => store.admin.runNow([ID1, ID2], T0, 'e'.repeat(32)) },
  { name: 'admin.runNow-many', run: (store) => store.admin.runNow(many(1000), T0, 'e'.repeat(32)) },
  { name: 'admin.delete', run: (store) => store.admin.delete([ID1, ID2], T0) },
  { name: 'admin.delete-many', run: (store) => store.admin.delete(many(1000), T0) },
  {
    name: 'admin.history',
    run: (store, sql) => (
      sql.reply({ rows: [{ minute: '2030-06-15 11:58', succeeded: 2, failed: 1 }] }),
      store.admin.history(new Date(T0.getTime() - 3_600_000), T0)
    ),
  },
];

/** The workers' heartbeat rows (AbpBackgroundJobWorkers). */
const HEARTBEAT_SCENARIOS: Scenario[] = [
  {
    name: 'heartbeats.beat',
    run: (store) =>
      store.heartbeats.beat({
        id: ID1,
        host: 'worker-1',
        pid: 4242,
        applicationName: 'app',
        jobNames: ['MyReportJobArgs'],
        maxParallel: 4,
        running: 1,
        startedAt: T0,
        lastHeartbeat: T0,
      }),
  },
  { name: 'heartbeats.remove', run: (store) => store.heartbeats.remove(ID1) },
  { name: 'heartbeats.prune', run: (store, sql) => (sql.reply({ rowsAffected: 2 }), store.heartbeats.prune(T0)) },
  { name: 'heartbeats.live', run: (store) => store.heartbeats.live(T0) },
];

/**
 * Each runs on a fresh store; the name's first word is the store method it calls. A statement is
 * named after the first scenario that sends it, so the methods come roughly in the order they send
 * their own statements before others reuse them (claim's release of a row it cannot abandon).
 */
const SCENARIOS: Scenario[] = [
  ...MIGRATE_SCENARIOS,
  { name: 'insert-one-row', run: (store) => store.insert([record({ applicationName: 'app', isAbandoned: true })]) },
  {
    name: 'insert-many-rows',
    run: (store) => store.insert(Array.from({ length: 1001 }, (_, i) => record({ id: idOf(i) }))),
  },
  { name: 'enqueue-one-job', run: (store) => store.enqueue(enqueueBatch(1, false)) },
  { name: 'enqueue-many-jobs', run: (store) => store.enqueue(enqueueBatch(1500, false)) },
  { name: 'enqueue-with-keys', run: (store) => store.enqueue(enqueueBatch(1500, true)) },
  {
    name: 'enqueue-without-application',
    run: (store) => store.enqueue({ ...enqueueBatch(1, true), applicationName: null }),
  },
  { name: 'complete', run: (store) => store.complete(LEASE, [ID1, ID2]) },
  {
    name: 'complete-many',
    run: (store) =>
      store.complete(
        LEASE,
        Array.from({ length: 1001 }, (_, i) => idOf(i)),
      ),
  },
  {
    name: 'fail-retry-and-abandon',
    run: (store) =>
      store.fail([
        { id: ID1, leaseToken: LEASE, nextTryTime: T0, extraProperties: '{"LastError":"x"}', newStamp: 'n1' },
        { id: ID2, leaseToken: LEASE, nextTryTime: null, extraProperties: '{}', newStamp: 'n2' },
      ]),
  },
  { name: 'extendLeases', run: (store) => store.extendLeases(LEASE, [ID1], T0) },
  {
    name: 'release-undoing-the-try',
    run: (store) => store.release({ leaseToken: LEASE, ids: [ID1], now: T0, newStamp: 'n', undoTry: true }),
  },
  {
    name: 'release-keeping-the-try',
    run: (store) => store.release({ leaseToken: LEASE, ids: [ID1], now: T0, newStamp: 'n', undoTry: false }),
  },
  {
    name: 'claim-for-application',
    run: (store, sql) => (sql.reply({ rows: [claimedRow()] }), store.claim(claimRequest())),
  },
  { name: 'claim-without-application', run: (store) => store.claim(claimRequest({ applicationName: null })) },
  { name: 'claim-one-name', run: (store) => store.claim(claimRequest({ jobNames: ['MyReportJobArgs'], limit: 5000 })) },
  { name: 'claim-no-names', run: (store) => store.claim(claimRequest({ jobNames: [] })) },
  {
    name: 'claim-abandons-unreadable-row',
    run: (store, sql) => (
      sql.reply({ rows: [claimedRow({ Id: ID2.toUpperCase(), JobArgs: null }), claimedRow()] }, { rowsAffected: 1 }),
      store.claim(claimRequest())
    ),
  },
  {
    name: 'claim-releases-row-it-cannot-abandon',
    run: (store, sql) => (
      sql.reply({ rows: [claimedRow({ JobArgs: null })] }, new Error('write failed'), { rowsAffected: 1 }),
      store.claim(claimRequest())
    ),
  },
  {
    name: 'claim-after-deadlock',
    run: (store, sql) => (
      sql.reply(Object.assign(new Error('deadlock'), { number: 1205 }), { rows: [claimedRow()] }),
      store.claim(claimRequest())
    ),
  },
  { name: 'find', run: (store) => store.find(ID1) },
  { name: 'find-not-a-guid', run: (store) => store.find('not-a-guid') },
  { name: 'count-all', run: (store, sql) => (sql.reply({ rows: [{ n: 1 }] }), store.count()) },
  { name: 'count-without-application', run: (store, sql) => (sql.reply({ rows: [{ n: 1 }] }), store.count(null)) },
  { name: 'count-of-application', run: (store, sql) => (sql.reply({ rows: [{ n: 1 }] }), store.count('app')) },
  { name: 'countDueByJobName-of-application', run: (store) => store.countDueByJobName('app', T0) },
  { name: 'countDueByJobName-without-application', run: (store) => store.countDueByJobName(null, T0) },
  { name: 'countDueByApplication', run: (store) => store.countDueByApplication(T0) },
  { name: 'ping', run: (store) => store.ping() },
  { name: 'oldestDueTime-of-application', run: (store) => store.oldestDueTime('app', T0) },
  { name: 'oldestDueTime-without-application', run: (store) => store.oldestDueTime(null, T0) },
  { name: 'isUnavailable', run: async (store) => store.isUnavailable(new Error('x')) },
  { name: 'findEnqueueKeys', run: (store) => store.findEnqueueKeys([ID1, ID2]) },
  {
    name: 'findEnqueueKeys-many',
    run: (store) => store.findEnqueueKeys(Array.from({ length: 1001 }, (_, i) => idOf(i))),
  },
  {
    name: 'deleteEnqueueKeysBefore',
    run: (store, sql) => (sql.reply({ rowsAffected: 2 }), store.deleteEnqueueKeysBefore(T0, 1000)),
  },
  {
    name: 'withinTransaction',
    run: (store) => store.withinTransaction(callerTransaction()).enqueue(enqueueBatch(1, false)),
  },
  { name: 'uniqueJobs.current', run: (store) => store.uniqueJobs.current(ID1) },
  { name: 'uniqueJobs.current-not-a-guid', run: (store) => store.uniqueJobs.current('not-a-guid') },
  {
    name: 'uniqueJobs.insertIfAbsent',
    run: (store) => store.uniqueJobs.insertIfAbsent(record({ extraProperties: '{"UniqueKey":"k"}' })),
  },
  { name: 'uniqueJobs.moveFinished', run: (store) => store.uniqueJobs.moveFinished(ID1, ID2) },
  {
    name: 'uniqueJobs.replaceWaiting',
    run: (store) =>
      store.uniqueJobs.replaceWaiting({ id: ID1, jobArgs: '{}', priority: 25, nextTryTime: T0, newStamp: 'n' }, T0),
  },
  { name: 'schedules.list-all', run: (store) => store.schedules.list() },
  { name: 'schedules.list-of-application', run: (store) => store.schedules.list('app') },
  { name: 'schedules.list-without-application', run: (store) => store.schedules.list(null) },
  { name: 'schedules.find', run: (store) => store.schedules.find('nightly') },
  { name: 'schedules.insert', run: (store) => store.schedules.insert(scheduleRecord()) },
  {
    name: 'schedules.updateDefinition',
    run: (store) => store.schedules.updateDefinition(scheduleRecord(), 'old', 'new', T0),
  },
  { name: 'schedules.setPaused', run: (store) => store.schedules.setPaused('nightly', false, T0) },
  { name: 'schedules.remove', run: (store) => store.schedules.remove('nightly') },
  {
    name: 'schedules.enqueueRun-occurrence',
    run: (store, sql) => (
      sql.reply({ rowsAffected: 1 }, { rowsAffected: 1 }),
      store.schedules.enqueueRun({ name: 'nightly', job: record(), occurrence: { time: T0, definitionStamp: 's' } }, T0)
    ),
  },
  {
    name: 'schedules.enqueueRun-trigger',
    run: (store, sql) => (
      sql.reply({ rowsAffected: 1 }, { rowsAffected: 1 }),
      store.schedules.enqueueRun({ name: 'nightly', job: record() }, T0)
    ),
  },
  {
    name: 'cancellations.abandonWaiting',
    run: (store) =>
      store.cancellations.abandonWaiting(
        { id: ID1, expectedStamp: 's', extraProperties: '{"LastError":"cancelled"}', newStamp: 'n' },
        T0,
      ),
  },
  {
    name: 'cancellations.request',
    run: (store) => store.cancellations.request({ id: ID1, jobCreationTime: T0, requestedBy: 'alice' }, T0),
  },
  { name: 'cancellations.findRequests', run: (store) => store.cancellations.findRequests([ID1, ID2]) },
  { name: 'cancellations.deleteRequests', run: (store) => store.cancellations.deleteRequests([ID1]) },
  { name: 'cancellations.deleteSettledRequests', run: (store) => store.cancellations.deleteSettledRequests(1000) },
  {
    // Refused, sending nothing, on a table without CompletionTime.
    name: 'completeAndKeep',
    run: (store, _sql, shape) =>
      store
        .completeAndKeep([
          { id: ID1, leaseToken: LEASE, completionTime: T0, extraProperties: '{"Result":1}', newStamp: 'n1' },
          { id: ID2, leaseToken: LEASE, completionTime: T0, extraProperties: null, newStamp: 'n2' },
        ])
        .then(
          () => {
            if (!shape.completionTime) throw new Error('completeAndKeep kept rows in a table without CompletionTime');
          },
          (error: unknown) => {
            if (shape.completionTime) throw error;
          },
        ),
  },
  { name: 'deleteCompletedBefore-of-application', run: (store) => store.deleteCompletedBefore('app', T0, 1000) },
  { name: 'deleteCompletedBefore-without-application', run: (store) => store.deleteCompletedBefore(null, T0, 10) },
  {
    name: 'tryWithLock',
    run: (store, sql) => (
      sql.reply({ rows: [{ result: 0 }] }),
      store.tryWithLock('AbpBackgroundJobCleanup', async () => 1)
    ),
  },
  { name: 'hasCompletionTimeColumn', run: (store) => store.hasCompletionTimeColumn() },
  ...ADMIN_SCENARIOS,
  ...HEARTBEAT_SCENARIOS,
];

/** A schedule row as the scheduler writes it. */
function scheduleRecord(): ScheduleRecord {
  return {
    name: 'nightly',
    applicationName: 'app',
    jobName: 'MyReportJobArgs',
    jobArgs: '{}',
    cron: '0 3 * * *',
    timeZone: 'Europe/Berlin',
    priority: 15,
    isPaused: false,
    source: 'runtime',
    definitionStamp: '0123456789abcdef0123456789abcdef',
    creationTime: T0,
    lastOccurrenceTime: T0,
    lastEnqueueTime: null,
    lastJobId: null,
  };
}

/**
 * A TypeORM EntityManager of a running SQL Server transaction, as far as withinTransaction reads
 * it: the mssql Transaction its query runner holds (here one that answers every request with one
 * row changed; the statements are the store's own, recorded above).
 */
function callerTransaction(): object {
  const request = { input: () => request, query: async () => ({ recordset: [], rowsAffected: [1] }) };
  return {
    connection: { options: { type: 'mssql' } },
    queryRunner: { isTransactionActive: true, databaseConnection: { request: () => request } },
  };
}

const DIALECTS = 'libs/background-jobs/src/store/dialects';

/** The parts of the store that hold statements of their own, each a class in its own file; noted as `<part>.<method>`. */
export const SUB_STORES = {
  admin: { source: `${DIALECTS}/mssql.admin.ts`, className: 'MssqlJobAdminStore' },
  heartbeats: { source: `${DIALECTS}/mssql.heartbeats.ts`, className: 'MssqlWorkerHeartbeats' },
  uniqueJobs: { source: `${DIALECTS}/mssql.unique-jobs.ts`, className: 'MssqlUniqueJobs' },
  schedules: { source: `${DIALECTS}/mssql.schedules.ts`, className: 'MssqlSchedules' },
  cancellations: { source: `${DIALECTS}/mssql.cancellations.ts`, className: 'MssqlCancellations' },
} as const;

/**
 * The store as a caller sees it, noting each method called on it, and on its parts as
 * `part.method` (store.schedules.list: 'schedules.list'). Calls the store makes on itself (claim's
 * release of an unreadable row) go to the store itself and are not noted.
 */
function noteCalls<T extends object>(target: T, called: (method: string) => void, prefix = ''): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value: unknown = Reflect.get(object, property, receiver);
      if (typeof property !== 'string') return value;
      if (prefix === '' && property in SUB_STORES) return noteCalls(value as object, called, `${property}.`);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]): unknown => {
        called(`${prefix}${property}`);
        return (value as (...a: unknown[]) => unknown).apply(object, args);
      };
    },
  });
}

/**
 * Runs every scenario on a fresh store and recording runner, on each table in SHAPES (the store
 * first learns its table from the catalog, as it does at its first statement); see StoreRecording.
 * `names`: the store's tablePrefix and schema (ABP's by default).
 */
export async function recordStoreStatements(names: TableNameOptions = {}): Promise<StoreRecording> {
  const statements: RecordedStatement[] = [];
  const seen = new Set<string>();
  const covered = new Set<string>();
  for (const { label, shape } of SHAPES) {
    for (const scenario of SCENARIOS) {
      const sql = new RecordingSqlRunner();
      const target = new MssqlBackgroundJobStore(sql, undefined, new TableNames('mssql', names));
      sql.reply({ rows: tableColumns(shape).map((name) => ({ name })) });
      await target.hasCompletionTimeColumn();
      let method = '(the table)';
      const store: BackgroundJobStore = noteCalls(target, (name) => {
        method = name;
        covered.add(name);
      });
      const name = `${label}-${scenario.name}`;
      try {
        await scenario.run(store, sql, shape);
      } catch (error) {
        throw new Error(`Scenario ${name} failed: ${String(error)}`, { cause: error });
      }
      for (const [i, call] of sql.calls.entries()) {
        const key = `${call.sql}\n${call.params.map((p) => `${p.name} ${p.type}`).join(', ')}`;
        if (seen.has(key)) continue;
        seen.add(key);
        statements.push({
          scenario: i === 0 ? `${label}-table-shape` : name,
          method: i === 0 ? '(the table)' : method,
          sql: call.sql,
          params: call.params,
          options: call.options,
        });
      }
    }
  }
  return { statements, coveredMethods: [...covered].sort() };
}

import { randomUUID } from 'node:crypto';
import { AsyncBackgroundJob } from '../async-background-job';
import { BackgroundJobRegistry, RegisteredBackgroundJob } from '../background-job.registry';
import { AbandonJobError } from '../errors';
import { BackgroundJobWorkerOptions, resolveOptions } from '../background-jobs.options';
import { BackgroundJobRecord, ClaimedJob } from '../store/background-job-record';
import { ClaimRequest } from '../store/background-job-store';
import { MemoryBackgroundJobStore, MemoryStoreUnavailableError } from '../store/memory/memory-background-job-store';
import { BackgroundJobWorker, createBackgroundJobWorker, WorkerSummary } from './background-job-worker';
import type { JobNameSource } from './dedicated-workers';
import { JobLifecycle } from './job-lifecycle';
import { JobRunner } from './job-runner';

/**
 * The worker loop against the in-memory store, on fake timers: every step happens at a known
 * time. Jobs run until the test finishes them (`jobs.finish(n)`); rows are numbered by their
 * dequeue order. With MaxParallelJobExecutionCount 2 and MaxJobFetchCount 4 the local queue's
 * target is 4 rows while jobs take under 25 ms on average, so a claim asks for 2.
 */
const T0 = new Date('2030-01-01T00:00:00.000Z');

class ProbeArgs {
  n = 0;
}

/** Jobs that run until the test finishes them. */
class Jobs extends AsyncBackgroundJob<ProbeArgs> {
  readonly started: number[] = [];
  private readonly finishers = new Map<
    number,
    { resolve: (result?: unknown) => void; reject: (error: Error) => void }
  >();

  execute(args: ProbeArgs): Promise<unknown> {
    this.started.push(args.n);
    return new Promise((resolve, reject) => this.finishers.set(args.n, { resolve, reject }));
  }

  /** Ends job `n` successfully, returning `result`. */
  finish(n: number, result?: unknown): void {
    this.finisher(n).resolve(result);
  }

  fail(n: number, error: Error): void {
    this.finisher(n).reject(error);
  }

  private finisher(n: number) {
    const finisher = this.finishers.get(n);
    if (!finisher) throw new Error(`job ${n} is not running`);
    return finisher;
  }
}

/** The in-memory store, with its claims recorded and, while `holdClaims` is on, held until `answerClaims()`. */
class ObservedStore extends MemoryBackgroundJobStore {
  readonly claims: Array<{ at: number; limit: number }> = [];
  readonly completions: string[][] = [];
  holdClaims = false;
  private readonly heldClaims: Array<() => void> = [];

  get claimsWaiting(): number {
    return this.heldClaims.length;
  }

  claim(request: ClaimRequest) {
    this.claims.push({ at: Date.now() - T0.getTime(), limit: request.limit });
    if (!this.holdClaims) return super.claim(request);
    return new Promise<Awaited<ReturnType<MemoryBackgroundJobStore['claim']>>>((resolve, reject) =>
      this.heldClaims.push(() => void super.claim(request).then(resolve, reject)),
    );
  }

  answerClaims(): void {
    for (const answer of this.heldClaims.splice(0)) answer();
  }

  /** Deletes of completed jobs that go through but whose answer is lost (the connection drops). */
  loseCompleteAnswers = 0;
  /** While on, a DELETE of completed jobs goes through at once and answers only at `answerCompletes()`. */
  holdCompleteAnswers = false;
  private readonly heldCompleteAnswers: Array<() => void> = [];

  async complete(leaseToken: string, ids: string[]) {
    this.completions.push(ids);
    const deleted = await super.complete(leaseToken, ids);
    if (this.loseCompleteAnswers > 0) {
      this.loseCompleteAnswers--;
      throw new MemoryStoreUnavailableError();
    }
    if (this.holdCompleteAnswers) await new Promise<void>((resolve) => this.heldCompleteAnswers.push(resolve));
    return deleted;
  }

  answerCompletes(): void {
    for (const answer of this.heldCompleteAnswers.splice(0)) answer();
  }
}

function row(n: number): BackgroundJobRecord {
  return {
    id: randomUUID(),
    applicationName: null,
    jobName: 'Probe',
    jobArgs: JSON.stringify({ n }),
    tryCount: 0,
    creationTime: T0,
    nextTryTime: new Date(T0.getTime() - 1000 + n),
    lastTryTime: null,
    isAbandoned: false,
    priority: 15,
    completionTime: null,
    extraProperties: '{}',
    concurrencyStamp: randomUUID().replace(/-/g, ''),
  };
}

/** Another worker takes the row over (its lease ran out, then it was claimed): this worker's token no longer matches. */
async function takeOver(store: MemoryBackgroundJobStore, id: string): Promise<ClaimedJob> {
  const mine = (await store.find(id))!.concurrencyStamp;
  await store.release({ leaseToken: mine, ids: [id], now: new Date(), newStamp: 'x'.repeat(32), undoTry: false });
  const [theirs] = await store.claim({
    applicationName: null,
    jobNames: ['Probe'],
    limit: 1,
    now: new Date(),
    leaseUntil: new Date(Date.now() + 600_000),
    leaseToken: 'lease:theirs',
  });
  return theirs;
}

interface Setup {
  store: ObservedStore;
  jobs: Jobs;
  worker: BackgroundJobWorker;
  rows: BackgroundJobRecord[];
  lines: string[];
  lifecycle: JobLifecycle;
}

async function setUp(
  rowCount: number,
  worker: Partial<BackgroundJobWorkerOptions> = {},
  registration: Partial<RegisteredBackgroundJob> = {},
  jobNames: string[] | JobNameSource = ['Probe'],
): Promise<Setup> {
  const store = new ObservedStore();
  const rows = Array.from({ length: rowCount }, (_, n) => row(n));
  await store.insert(rows);
  const jobs = new Jobs();
  const registry = new BackgroundJobRegistry();
  registry.register({
    jobName: 'Probe',
    argsType: ProbeArgs,
    jobTypeName: 'Jobs',
    resolve: async () => jobs,
    instance: jobs,
    ...registration,
  });
  const options = resolveOptions({
    worker: { maxParallelJobExecutionCount: 2, maxJobFetchCount: 4, jobPollPeriod: 5000, ...worker },
  }).worker;
  const lines: string[] = [];
  const logger = {
    log: (m: string) => void lines.push(`log ${m}`),
    warn: (m: string) => void lines.push(`warn ${m}`),
    error: (m: string) => void lines.push(`error ${m}`),
  };
  const lifecycle = new JobLifecycle();
  const created = createBackgroundJobWorker(
    store,
    new JobRunner(registry, options.jobExecutionTimeout * 1000),
    options,
    jobNames,
    logger,
    lifecycle,
  );
  return { store, jobs, worker: created, rows, lines, lifecycle };
}

/** Lets every promise and timer due in the next `ms` run. */
const advance = (ms = 0) => jest.advanceTimersByTimeAsync(ms);

async function stop(worker: BackgroundJobWorker, timeoutMs = 0): Promise<WorkerSummary> {
  const stopped = worker.stop(timeoutMs);
  await advance(timeoutMs + 5000);
  return stopped;
}

describe('BackgroundJobWorker loop', () => {
  /** The setup whose worker afterEach stops (a test that stops its worker itself clears it). */
  let running: Setup | undefined;

  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'], now: T0 });
  });

  afterEach(async () => {
    if (running) {
      running.store.holdClaims = false;
      running.store.answerClaims();
      running.store.holdCompleteAnswers = false;
      running.store.answerCompletes();
      await stop(running.worker);
    }
    running = undefined;
    jest.useRealTimers();
  });

  async function start(setup: Setup): Promise<Setup> {
    running = setup;
    await setup.worker.start();
    await advance();
    return setup;
  }

  it('claims again only when the local queue falls to half its target', async () => {
    // With 4 slots the target stays 4 (MaxJobFetchCount) however long the jobs run.
    const { store, jobs } = await start(await setUp(20, { maxParallelJobExecutionCount: 4 }));
    expect(jobs.started).toEqual([0, 1, 2, 3]);
    const claimsWhenFull = store.claims.length; // 4 rows queued
    expect(store.claims.every((c) => c.limit === 2)).toBe(true);

    jobs.finish(0); // one row moves from the queue to a slot: 3 left, not yet half empty
    await advance(5000); // not even at the next poll
    expect(jobs.started).toEqual([0, 1, 2, 3, 4]);
    expect(store.claims).toHaveLength(claimsWhenFull);

    jobs.finish(1); // 2 left of 4: room for a claim of 2, at once rather than at the next poll
    await advance();
    expect(jobs.started).toEqual([0, 1, 2, 3, 4, 5]);
    expect(store.claims).toHaveLength(claimsWhenFull + 1);
    expect(store.claims.at(-1)).toEqual({ at: 5000, limit: 2 });
  });

  it('has a second claim in flight while rows are known to be due', async () => {
    const setup = await setUp(20);
    setup.store.holdClaims = true;
    const { store } = await start(setup);
    // Nothing is known to be due beyond the first claim yet: one claim at a time.
    expect(store.claimsWaiting).toBe(1);

    store.answerClaims(); // it comes back full: more rows are due
    await advance();
    expect(store.claimsWaiting).toBe(2);

    store.answerClaims();
    await advance();
    expect(store.claimsWaiting).toBe(0); // the queue is at its target
    expect(store.claims).toHaveLength(3);
  });

  it('claims one at a time once a claim came back short (no more rows known to be due)', async () => {
    const setup = await setUp(3);
    setup.store.holdClaims = true;
    const { store, jobs } = await start(setup);
    store.answerClaims(); // 2 of 2: full
    await advance();
    expect(store.claimsWaiting).toBe(2);
    store.answerClaims(); // 1 of 2 and 0 of 2: short
    await advance();
    jobs.finish(0);
    jobs.finish(1);
    await advance(5000); // the next poll
    expect(jobs.started).toEqual([0, 1, 2]);
    expect(store.claimsWaiting).toBe(1);
  });

  it('makes one claim per wake-up, and one more after a claim that a wake-up came during', async () => {
    const setup = await setUp(0);
    setup.store.holdClaims = true;
    const { store, jobs, worker } = await start(setup);
    store.answerClaims(); // the claim at start: nothing due
    await advance();

    await store.insert([row(0)]);
    worker.wake(); // one enqueue's notification
    await advance();
    expect(store.claimsWaiting).toBe(1); // one claim takes what one enqueue wrote, not two

    worker.wake(); // another enqueue, whose rows the claim out now may not see
    await advance();
    expect(store.claimsWaiting).toBe(1);
    store.answerClaims(); // 1 row of 2: short, but a wake-up came while it was out
    await advance();
    expect(store.claimsWaiting).toBe(1);
    store.answerClaims();
    await advance();
    expect(store.claimsWaiting).toBe(0);
    expect(store.claims).toHaveLength(3); // at start, for the first wake-up, after the one that came during it
    expect(jobs.started).toEqual([0]);
  });

  it('starts no job while 4 x MaxParallel jobs run or wait for their result to be written; goes on once a write comes back', async () => {
    const setup = await setUp(20); // MaxParallel 2: at most 8 jobs running or finished and unwritten
    setup.store.holdCompleteAnswers = true;
    const { store, jobs } = await start(setup);
    const upTo = (n: number) => Array.from({ length: n }, (_, i) => i);
    for (let n = 0; n < 8; n++) {
      jobs.finish(n);
      await advance();
    }
    // Jobs 6 and 7 started while 6 results were unwritten; 8 finished jobs now wait for their writes.
    expect(jobs.started).toEqual(upTo(8));
    await advance(5000);
    expect(jobs.started).toEqual(upTo(8));

    store.holdCompleteAnswers = false;
    store.answerCompletes(); // the DELETEs come back
    await advance();
    expect(jobs.started).toEqual(upTo(10)); // both slots busy again
  });

  it('renews the leases of running jobs every third of the lease', async () => {
    const { store, rows } = await start(await setUp(1, { jobLeaseDuration: 30 }));
    const leasedUntil = async () => (await store.find(rows[0].id))!.nextTryTime.getTime() - T0.getTime();
    expect(await leasedUntil()).toBe(30_000);
    await advance(9_999);
    expect(await leasedUntil()).toBe(30_000);
    await advance(1);
    expect(await leasedUntil()).toBe(40_000);
    await advance(10_000);
    expect(await leasedUntil()).toBe(50_000);
  });

  it("reports each job's start and end to lifecycle listeners; a listener that throws changes nothing", async () => {
    const setup = await setUp(2);
    const events: string[] = [];
    setup.lifecycle.listen({
      jobStarted: () => {
        throw new Error('listener bug');
      },
    });
    setup.lifecycle.listen({
      jobStarted: (job) => void events.push(`started ${job.jobArgs}`),
      jobEnded: (e) => void events.push(`${e.outcome} ${e.job.jobArgs} ${e.nextTryTime?.toISOString() ?? ''}`.trim()),
    });
    const { store, jobs, rows } = await start(setup);
    jobs.finish(0);
    jobs.fail(1, new Error('boom'));
    await advance(1000);
    expect(events).toEqual([
      'started {"n":0}',
      'started {"n":1}',
      'succeeded {"n":0}',
      `failed {"n":1} ${new Date(T0.getTime() + 60_000).toISOString()}`,
    ]);
    expect(await store.find(rows[0].id)).toBeUndefined();
    expect(await store.find(rows[1].id)).toMatchObject({ tryCount: 1, isAbandoned: false });
  });

  it('counts and logs a result the store refuses (the lease passed to another worker) and does not write it again', async () => {
    const { store, jobs, rows, lines, worker } = await start(await setUp(1, { jobLeaseDuration: 30 }));
    const theirs = await takeOver(store, rows[0].id);
    expect(theirs.id).toBe(rows[0].id);

    jobs.finish(0);
    await advance(60_000); // result retries (if any) and lease renewals have long run by now
    expect(store.completions).toEqual([[rows[0].id]]);
    expect(lines.filter((l) => l.includes('not written'))).toEqual([
      `warn 1 job result(s) not written: their lease had passed to another worker (${rows[0].id})`,
    ]);
    expect((await store.find(rows[0].id))?.concurrencyStamp).toBe('lease:theirs');
    running = undefined;
    expect(await stop(worker)).toMatchObject({ succeeded: 1, refused: 1 });
  });

  it('says nothing of a retried DELETE that finds its row gone because the attempt whose answer was lost deleted it', async () => {
    const { store, jobs, lines, worker } = await start(await setUp(1, { jobLeaseDuration: 30 }));
    store.loseCompleteAnswers = 1;
    jobs.finish(0);
    await advance(5_000); // the retry after 200 ms, and its look-up
    expect(store.completions).toHaveLength(2);
    expect(await store.count()).toBe(0);
    expect(lines.filter((l) => l.includes('not written'))).toEqual([]);
    running = undefined;
    expect(await stop(worker)).toMatchObject({ succeeded: 1, refused: 0 });
  });

  it("says nothing of a lease renewal that races the job's own DELETE, and warns when another worker took a running job over", async () => {
    const { store, jobs, rows, lines } = await start(await setUp(2, { jobLeaseDuration: 30 }));
    store.holdCompleteAnswers = true;
    jobs.finish(0); // deleted at once; the worker learns it only when the answer comes
    await advance(10_000); // the renewal runs in between and finds row 0 gone
    store.answerCompletes();
    await advance();
    expect(lines.filter((l) => l.includes('could not be renewed'))).toEqual([]);

    // Row 1 (still running) is taken over: the next renewal says so, naming it.
    await takeOver(store, rows[1].id);
    await advance(10_000);
    expect(lines.filter((l) => l.includes('could not be renewed'))).toEqual([
      `warn 1 lease(s) could not be renewed: another worker holds those jobs now (${rows[1].id})`,
    ]);
  });

  it('backs off while the store is unavailable (250 ms doubling), logs the outage once, and runs jobs once it is back', async () => {
    const setup = await setUp(1);
    setup.store.simulateOutage();
    const { store, jobs, lines } = await start(setup);
    await advance(3000);
    expect(store.claims.map((c) => c.at)).toEqual([0, 250, 750, 1750]);
    expect(jobs.started).toEqual([]);

    store.simulateOutage(false);
    await advance(749);
    expect(store.claims).toHaveLength(4);
    await advance(1); // 1750 + 2000
    expect(store.claims.map((c) => c.at)).toEqual([0, 250, 750, 1750, 3750]);
    expect(jobs.started).toEqual([0]);
    jobs.finish(0);
    await advance();
    expect(await store.count()).toBe(0);
    expect(lines.filter((l) => l.includes('Lost the database'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('The database is back'))).toHaveLength(1);
  });

  it('on stop completes the jobs that finish in time, aborts and releases the rest at the deadline, and releases queued rows with their try undone', async () => {
    const { store, jobs, rows, worker } = await start(await setUp(6));
    expect(jobs.started).toEqual([0, 1]);
    running = undefined;
    const stopped = worker.stop(5000);
    await advance();
    // Rows that never started are given back at once, due now, their try undone.
    for (const queued of rows.slice(2)) {
      expect(await store.find(queued.id)).toMatchObject({ tryCount: 0, nextTryTime: T0 });
    }
    await advance(1000);
    jobs.finish(0);
    await advance(3999);
    expect(await store.find(rows[0].id)).toBeUndefined(); // finished in time: completed
    expect(await store.find(rows[1].id)).toMatchObject({ tryCount: 1 }); // still running and held
    expect((await store.find(rows[1].id))!.concurrencyStamp).toMatch(/^lease:/);

    await advance(1); // the deadline: job 1 is aborted and its row released, keeping its try
    const summary = await stopped;
    expect(await store.find(rows[1].id)).toMatchObject({ tryCount: 1, nextTryTime: new Date(T0.getTime() + 5000) });
    expect((await store.find(rows[1].id))!.concurrencyStamp).not.toMatch(/^lease:/);
    expect(jobs.started).toEqual([0, 1]);
    expect(summary).toEqual({ succeeded: 1, failed: 0, abandoned: 0, released: 5, refused: 0 });
  });

  it('on stop starts none of the rows a claim brings back after stop began, and releases them with their try undone', async () => {
    const setup = await setUp(6);
    setup.store.holdClaims = true;
    const { store, jobs, rows, worker } = await start(setup);
    store.answerClaims();
    await advance();
    expect(store.claimsWaiting).toBe(2);
    running = undefined;
    const stopped = worker.stop(5000);
    jobs.finish(0);
    jobs.finish(1);
    await advance();
    store.answerClaims(); // slots are free, but the worker is stopping
    const summary = await stopped;
    expect(jobs.started).toEqual([0, 1]);
    for (const queued of rows.slice(2))
      expect(await store.find(queued.id)).toMatchObject({ tryCount: 0, nextTryTime: T0 });
    expect(summary).toMatchObject({ succeeded: 2, released: 4 });
  });

  describe('StoreSuccessfulJobs, per-job retry, AbandonJobError, job name sources', () => {
    const bagOf = async (store: MemoryBackgroundJobStore, id: string) =>
      JSON.parse((await store.find(id))!.extraProperties) as Record<string, unknown>;

    it('keeps a succeeded row, completed, with its result in ExtraProperties.Result, and never runs it again', async () => {
      const setup = await setUp(2, { storeSuccessfulJobs: true });
      const ended: unknown[] = [];
      setup.lifecycle.listen({ jobEnded: (e) => void ended.push([e.outcome, e.result]) });
      const { store, jobs, rows } = await start(setup);
      await advance(1500);
      jobs.finish(0, { rows: 3 });
      jobs.finish(1);
      await advance();
      expect(await store.find(rows[0].id)).toMatchObject({
        completionTime: new Date(T0.getTime() + 1500),
        extraProperties: '{"Result":{"rows":3}}',
        isAbandoned: false,
        tryCount: 1,
      });
      expect((await store.find(rows[0].id))!.concurrencyStamp).not.toMatch(/^lease:/);
      expect(await store.find(rows[1].id)).toMatchObject({ extraProperties: '{}' });
      expect((await store.find(rows[1].id))!.completionTime).not.toBeNull();
      expect(ended).toEqual([
        ['succeeded', { rows: 3 }],
        ['succeeded', undefined],
      ]);
      await advance(60_000); // a dozen polls
      expect(jobs.started).toEqual([0, 1]);
      expect(store.completions).toEqual([]); // nothing deleted
    });

    it('abandons a job that throws AbandonJobError at once, with its message, whatever retries are left', async () => {
      const { store, jobs, rows, lines } = await start(await setUp(1));
      jobs.fail(0, new AbandonJobError('customer 42 no longer exists'));
      await advance();
      expect(await store.find(rows[0].id)).toMatchObject({ isAbandoned: true, tryCount: 1 });
      expect((await bagOf(store, rows[0].id)).LastError).toMatch(/^AbandonJobError: customer 42 no longer exists/);
      expect(lines.filter((l) => l.startsWith('error Abandoned job'))).toHaveLength(1);
    });

    it("retries by the job's own policy and abandons after its maxTries", async () => {
      const retry = { maxTries: 2, backoff: 'fixed' as const, delayMs: 1000 };
      const { store, jobs, rows } = await start(await setUp(1, { jobPollPeriod: 500 }, { retry }));
      jobs.fail(0, new Error('try 1'));
      await advance();
      expect(await store.find(rows[0].id)).toMatchObject({
        isAbandoned: false,
        tryCount: 1,
        nextTryTime: new Date(T0.getTime() + 1000), // 1 s after the claim, not ABP's 60 s
      });
      await advance(1000);
      expect(jobs.started).toEqual([0, 0]);
      jobs.fail(0, new Error('try 2'));
      await advance();
      expect(await store.find(rows[0].id)).toMatchObject({ isAbandoned: true, tryCount: 2 });
      expect((await bagOf(store, rows[0].id)).LastError).toMatch(/^Error: try 2/);
    });

    it('claims the names its job name source gives at each claim (dynamic handlers come and go)', async () => {
      const source = { current: [] as string[] };
      const setup = await setUp(1, {}, {}, source);
      const { jobs, worker } = await start(setup);
      await advance(5000);
      expect(jobs.started).toEqual([]);
      source.current = ['Probe'];
      worker.wake();
      await advance();
      expect(jobs.started).toEqual([0]);
    });
  });
});

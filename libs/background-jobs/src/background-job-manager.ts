import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { cancelJob, CancelOutcome, thisProcess } from './cancellation/cancel-job';
import { BackgroundJobPriority } from './background-job-priority';
import {
  BackgroundJobRegistry,
  DynamicBackgroundJobHandler,
  DynamicBackgroundJobOptions,
} from './background-job.registry';
import { BACKGROUND_JOBS_OPTIONS } from './background-jobs.tokens';
import { ResolvedBackgroundJobsOptions } from './background-jobs.options';
import { MAX_JOB_ARGS_LENGTH } from './background-jobs.constants';
import { JobArgsTooLargeError, StoreUnavailableError } from './errors';
import type { BackgroundJobRecord } from './store/background-job-record';
import {
  BACKGROUND_JOB_STORE,
  BackgroundJobStore,
  EnqueueBatch,
  recordsOf,
  TransactionalJobStore,
} from './store/background-job-store';
import { afterCommit } from './store/caller-transaction';
import { uniqueJobId } from './store/derived-ids';
import { enqueueFingerprint } from './store/enqueue-keys';
import { enqueueUnique, UNIQUE_KEY_PROPERTY, UniqueConflict, UniqueEnqueueOutcome } from './store/unique-enqueue';
import { newConcurrencyStamp, newSequentialGuid } from './store/stamps';
import { WorkerWakeup } from './worker/worker-wakeup';
import { JobLifecycle } from './worker/job-lifecycle';

export interface EnqueueOptions {
  priority?: BackgroundJobPriority;
  /** Milliseconds before the job becomes due. */
  delay?: number;
  /**
   * The job's id (a UUID), for an enqueue that may be repeated: when this id was already enqueued
   * with the same job (same name and args), the enqueue writes nothing and returns the id, so a
   * retry after an answer that was lost cannot queue the job twice, even once the first has run
   * and its row is gone: the id is kept in AbpBackgroundJobEnqueueKeys, written with the row (all
   * or none), for 7 days (ENQUEUE_KEY_RETENTION_MS). A repeat after that is queued again. An id
   * already enqueued with another job is refused with JobIdTakenError.
   */
  id?: string;
  /**
   * Makes the job unique: at most one unfinished job (waiting, scheduled, retrying or running) per
   * job name and key in this application, however many processes enqueue it at once, on every
   * database. The job's id is derived from the job name and key (a UUIDv5), so the primary key
   * enforces it and no lock is held. A job that finished frees the key: a succeeded job's row is
   * gone; an abandoned (or kept completed) row moves to a new id, history intact. Up to 256
   * characters. The job's ExtraProperties carry it as `UniqueKey`.
   */
  uniqueKey?: string;
  /**
   * What an enqueue with a uniqueKey does when the key has an unfinished job: 'keep' (default)
   * leaves it as it is; 'replace' writes the new args, priority and due time (delay) onto it while
   * it waits. Either way the job's id (the same derived id) is returned; a running job is left
   * alone under 'replace' too, and the new args are not queued. enqueueUnique() tells which
   * happened ('enqueued', 'kept', 'replaced' or 'running').
   */
  onConflict?: UniqueConflict;
  /**
   * A TypeORM EntityManager of the caller's running transaction (the manager inside
   * `dataSource.transaction(...)`, or `queryRunner.manager` after startTransaction()): the job row is
   * written on that transaction's connection and commits or rolls back with the caller's own rows.
   * On PostgreSQL the workers' wake-up (NOTIFY) is delivered at commit, never before; a worker in
   * this process is woken at commit on every database. Not with `id` (use uniqueKey), nor with the
   * in-memory store.
   */
  entityManager?: EntityManager;
}

/** What an enqueue with a uniqueKey did, and the job's id (the same for every enqueue of one job name and key). */
export interface UniqueEnqueueResult {
  id: string;
  outcome: UniqueEnqueueOutcome;
}

/** The most characters of a unique key: it is hashed into the id, and kept in ExtraProperties. */
export const MAX_UNIQUE_KEY_LENGTH = 256;

export interface JobToEnqueue extends EnqueueOptions {
  /** An instance of a registered args class, or a plain object with `jobName`. */
  args: object;
  jobName?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** ABP's `IBackgroundJobManager` (with ABP 10's enqueue by name). */
export interface IBackgroundJobManager {
  /** Enqueues the job registered for the args' class; returns the new job's id. */
  enqueue<TArgs extends object>(args: TArgs, options?: EnqueueOptions): Promise<string>;
  /** ABP 10's dynamic manager: a registered job name and a plain object payload. */
  enqueueByName(jobName: string, args: object, options?: EnqueueOptions): Promise<string>;
  /** Many jobs in one round trip (each unique job in a few of its own); returns their ids in order. */
  enqueueMany(jobs: JobToEnqueue[]): Promise<string[]>;
  /** An enqueue with a uniqueKey (by args or by `jobName`) that also tells what it did. */
  enqueueUnique(job: JobToEnqueue & { uniqueKey: string }): Promise<UniqueEnqueueResult>;
  /**
   * Cancels a job: a waiting one is abandoned at once and never runs ('cancelled'); a running one
   * ('cancelling') is aborted by the worker that runs it within about a second (its AbortSignal
   * fires with a JobCancelledError) and ends abandoned. Either way LastError is "cancelled" and
   * CancelledBy says who (`by`, default this host and process id). 'finished': abandoned or
   * completed already; 'not-found': no such row (a succeeded job's row is deleted).
   */
  cancel(jobId: string, options?: { by?: string }): Promise<CancelOutcome>;
}

/**
 * ABP 10.3's `IDynamicBackgroundJobManager`: jobs by name, including jobs with no class, whose
 * handler is registered at run time. Register the handler in every process that enqueues or runs
 * the job (enqueueByName refuses a name no job or handler has), before the worker starts when a
 * JobNames or dedicated worker setting names it (in onModuleInit, say). Handlers live in memory:
 * register them again at each start.
 */
export interface IDynamicBackgroundJobManager {
  /** Enqueues the job of a registered job class or dynamic handler by its name, with a plain object payload. */
  enqueueByName(jobName: string, args: object, options?: EnqueueOptions): Promise<string>;
  /**
   * Runs `handler` for jobs of `jobName` (the args parsed from their JSON; what it returns is the
   * job's result). Registering a name again replaces its handler; a name a job class has is refused.
   * The workers here claim the name from their next claim on (unless JobNames, ExcludeJobNames or a
   * dedicated worker say otherwise).
   */
  registerHandler<TArgs = Record<string, unknown>>(
    jobName: string,
    handler: DynamicBackgroundJobHandler<TArgs>,
    options?: DynamicBackgroundJobOptions,
  ): void;
  /**
   * Removes the handler: true when there was one. This process claims no more jobs of the name; a
   * row of it claimed before but not started fails its try (retried later, by whichever worker has
   * the handler then) instead of being abandoned.
   */
  unregisterHandler(jobName: string): boolean;
  /** A dynamic handler (not a job class) is registered for the name. */
  isHandlerRegistered(jobName: string): boolean;
}

/** Injection token: `@Inject(IDynamicBackgroundJobManager) jobs: IDynamicBackgroundJobManager`. */
export const IDynamicBackgroundJobManager = Symbol('IDynamicBackgroundJobManager');

/** An enqueue with a chosen id that was already enqueued with another job; nothing was written. */
export class JobIdTakenError extends Error {
  constructor(readonly id: string) {
    super(`The background job id ${id} was already enqueued with another job`);
    this.name = 'JobIdTakenError';
  }
}

/** Injection token: `@Inject(IBackgroundJobManager) manager: IBackgroundJobManager`. */
export const IBackgroundJobManager = Symbol('IBackgroundJobManager');

@Injectable()
export class BackgroundJobManager implements IBackgroundJobManager, IDynamicBackgroundJobManager {
  constructor(
    private readonly registry: BackgroundJobRegistry,
    @Inject(BACKGROUND_JOB_STORE) private readonly store: BackgroundJobStore,
    @Inject(BACKGROUND_JOBS_OPTIONS) private readonly options: ResolvedBackgroundJobsOptions,
    private readonly wakeup: WorkerWakeup,
    private readonly lifecycle: JobLifecycle,
  ) {}

  async enqueue<TArgs extends object>(args: TArgs, options: EnqueueOptions = {}): Promise<string> {
    const [id] = await this.enqueueMany([{ args, ...options }]);
    return id;
  }

  async enqueueByName(jobName: string, args: object, options: EnqueueOptions = {}): Promise<string> {
    const [id] = await this.enqueueMany([{ args, jobName, ...options }]);
    return id;
  }

  registerHandler<TArgs = Record<string, unknown>>(
    jobName: string,
    handler: DynamicBackgroundJobHandler<TArgs>,
    options?: DynamicBackgroundJobOptions,
  ): void {
    this.registry.registerHandler(jobName, handler as DynamicBackgroundJobHandler, options);
    this.wakeup.wake(); // rows of the name may be waiting already
  }

  unregisterHandler(jobName: string): boolean {
    return this.registry.unregisterHandler(jobName);
  }

  isHandlerRegistered(jobName: string): boolean {
    return this.registry.isHandlerRegistered(jobName);
  }

  async enqueueMany(jobs: JobToEnqueue[]): Promise<string[]> {
    return (await this.enqueueAll(jobs)).map((result) => result.id);
  }

  async enqueueUnique(job: JobToEnqueue & { uniqueKey: string }): Promise<UniqueEnqueueResult> {
    if (job.uniqueKey === undefined) throw new RangeError('enqueueUnique needs a uniqueKey');
    const [result] = await this.enqueueAll([job]);
    return result as UniqueEnqueueResult;
  }

  async cancel(jobId: string, options: { by?: string } = {}): Promise<CancelOutcome> {
    if (typeof jobId !== 'string' || !UUID.test(jobId))
      throw new RangeError(`A background job id is a UUID, got ${JSON.stringify(jobId)}`);
    return this.read(() => cancelJob(this.store, jobId.toLowerCase(), options.by ?? thisProcess()));
  }

  /** Plain jobs go in one batch, each unique job after it in its own rounds; results in the order given. */
  private async enqueueAll(jobs: JobToEnqueue[]): Promise<Array<{ id: string; outcome?: UniqueEnqueueOutcome }>> {
    if (jobs.length === 0) return [];
    const entityManager = sharedEntityManager(jobs);
    const now = new Date();
    const newJobs = jobs.map((job) => this.toNewJob(job, now));
    const target = entityManager ? this.store.withinTransaction(entityManager) : this.store;
    const results: Array<{ id: string; outcome?: UniqueEnqueueOutcome }> = newJobs.map((job) => ({ id: job.id }));
    const plain = jobs.flatMap((job, index) => (job.uniqueKey === undefined ? [index] : []));
    if (plain.length > 0)
      await this.enqueuePlain(
        plain.map((index) => jobs[index]),
        plain.map((index) => newJobs[index]),
        target,
        now,
      );
    for (const [index, job] of jobs.entries()) {
      if (job.uniqueKey === undefined) continue;
      const row = this.uniqueRow(newJobs[index], job.uniqueKey, now);
      const outcome = await this.writeUnique(target, row, job.onConflict ?? 'keep');
      results[index] = { id: row.id, outcome };
      // A new row, as a plain enqueue writes one; a kept or replaced row was counted when it was written.
      if (outcome === 'enqueued')
        this.lifecycle.jobsEnqueued({
          applicationName: row.applicationName,
          creationTime: now,
          jobs: [newJobs[index]],
        });
    }
    if (entityManager) afterCommit(entityManager, () => this.wakeup.wake());
    else this.wakeup.wake();
    return results;
  }

  private async enqueuePlain(
    jobs: JobToEnqueue[],
    newJobs: EnqueueBatch['jobs'],
    target: TransactionalJobStore,
    now: Date,
  ): Promise<void> {
    const keys = newJobs
      .filter((_, index) => jobs[index].id !== undefined)
      .map((job) => ({ id: job.id, fingerprint: enqueueFingerprint(job.jobName, job.jobArgs) }));
    const batch: EnqueueBatch = {
      applicationName: this.options.worker.applicationName,
      creationTime: now,
      jobs: newJobs,
      ...(keys.length > 0 ? { keys } : {}),
    };
    // Listeners (a tracer) may give the rows extra properties, such as the enqueue's trace context.
    await this.lifecycle.enqueue(newJobs, async (extraProperties) => {
      if (extraProperties && Object.keys(extraProperties).length > 0)
        batch.extraProperties = JSON.stringify(extraProperties);
      try {
        await this.write(batch, target);
      } catch (error) {
        if (error instanceof StoreUnavailableError || keys.length === 0) throw error;
        // Perhaps a repeat of an enqueue whose answer was lost: write only what was not enqueued yet.
        const remaining = await this.withoutEnqueuedAlready(batch);
        if (remaining.jobs.length === batch.jobs.length) throw error;
        if (remaining.jobs.length > 0) await this.write(remaining, target);
      }
      return newJobs.map((job) => job.id);
    });
  }

  private async write(batch: EnqueueBatch, target: TransactionalJobStore = this.store): Promise<void> {
    await this.read(() => target.enqueue(batch));
    this.lifecycle.jobsEnqueued(batch);
  }

  private writeUnique(
    target: TransactionalJobStore,
    row: BackgroundJobRecord,
    onConflict: UniqueConflict,
  ): Promise<UniqueEnqueueOutcome> {
    return this.read(() =>
      enqueueUnique(target, row, onConflict, () => newSequentialGuid(Date.now(), this.store.guidLayout)),
    );
  }

  /** The row of a unique job: its id derived from the job name and key, the key in ExtraProperties. */
  private uniqueRow(job: EnqueueBatch['jobs'][number], uniqueKey: string, now: Date): BackgroundJobRecord {
    const [row] = recordsOf({ applicationName: this.options.worker.applicationName, creationTime: now, jobs: [job] });
    return {
      ...row,
      id: uniqueJobId(row.applicationName, row.jobName, uniqueKey),
      extraProperties: JSON.stringify({ [UNIQUE_KEY_PROPERTY]: uniqueKey }),
    };
  }

  /**
   * After a refused insert: the batch without the jobs whose chosen id was enqueued already with
   * the same job. An id enqueued with another job is an error, not a repeat. The id's key tells,
   * even after the job has run; a job row without a key (written before the keys table, or
   * waiting longer than the keys are kept) tells by its own name and args.
   */
  private async withoutEnqueuedAlready(batch: EnqueueBatch): Promise<EnqueueBatch> {
    const chosen = new Map((batch.keys ?? []).map((key) => [key.id, key.fingerprint]));
    const found = new Map(
      (await this.read(() => this.store.findEnqueueKeys([...chosen.keys()]))).map((key) => [key.id, key.fingerprint]),
    );
    const remaining: EnqueueBatch['jobs'] = [];
    for (const job of batch.jobs) {
      const fingerprint = chosen.get(job.id);
      if (fingerprint === undefined) {
        remaining.push(job);
        continue;
      }
      const existing = found.get(job.id) ?? (await this.fingerprintOfRow(job.id));
      if (existing === undefined) remaining.push(job);
      else if (existing !== fingerprint) throw new JobIdTakenError(job.id);
    }
    const remainingIds = new Set(remaining.map((job) => job.id));
    return { ...batch, jobs: remaining, keys: batch.keys?.filter((key) => remainingIds.has(key.id)) };
  }

  private async fingerprintOfRow(id: string): Promise<string | undefined> {
    const row = await this.read(() => this.store.find(id));
    return row && enqueueFingerprint(row.jobName, row.jobArgs);
  }

  private async read<T>(query: () => Promise<T>): Promise<T> {
    try {
      return await query();
    } catch (error) {
      throw this.store.isUnavailable(error) ? new StoreUnavailableError(error) : error;
    }
  }

  private toNewJob(job: JobToEnqueue, now: Date): EnqueueBatch['jobs'][number] {
    const jobName =
      job.jobName !== undefined
        ? this.registry.getByName(job.jobName).jobName
        : this.registry.getByArgs(job.args).jobName;
    const jobArgs = JSON.stringify(job.args);
    if (jobArgs.length > MAX_JOB_ARGS_LENGTH) throw new JobArgsTooLargeError(jobArgs.length, MAX_JOB_ARGS_LENGTH);
    const priority = job.priority ?? BackgroundJobPriority.Normal;
    if (!Number.isInteger(priority) || priority < 0 || priority > 255) {
      throw new RangeError(`A background job priority is a whole number from 0 to 255, got ${priority}`);
    }
    const delay = job.delay ?? 0;
    if (!(delay >= 0 && Number.isFinite(delay))) {
      throw new RangeError(`A background job delay is a finite number of milliseconds, not negative; got ${delay}`);
    }
    if (job.id !== undefined && !UUID.test(job.id))
      throw new RangeError(`A background job id is a UUID, got ${JSON.stringify(job.id)}`);
    assertUniqueOptions(job);
    return {
      id: job.id?.toLowerCase() ?? newSequentialGuid(now.getTime(), this.store.guidLayout),
      jobName,
      jobArgs,
      priority,
      nextTryTime: delay === 0 ? now : new Date(now.getTime() + delay),
      concurrencyStamp: newConcurrencyStamp(),
    };
  }
}

function assertUniqueOptions(job: JobToEnqueue): void {
  const { uniqueKey, onConflict } = job;
  if (uniqueKey !== undefined) {
    if (typeof uniqueKey !== 'string' || uniqueKey.length === 0 || uniqueKey.length > MAX_UNIQUE_KEY_LENGTH)
      throw new RangeError(
        `A unique key is text of 1 to ${MAX_UNIQUE_KEY_LENGTH} characters, got ${JSON.stringify(uniqueKey)}`,
      );
    if (job.id !== undefined)
      throw new RangeError('A job takes an id or a uniqueKey, not both: the unique key derives the id');
  } else if (onConflict !== undefined) {
    throw new RangeError('onConflict applies to an enqueue with a uniqueKey');
  }
  if (onConflict !== undefined && onConflict !== 'keep' && onConflict !== 'replace')
    throw new RangeError(`onConflict is 'keep' or 'replace', got ${JSON.stringify(onConflict)}`);
  if (job.entityManager !== undefined && job.id !== undefined)
    throw new RangeError(
      "An enqueue in the caller's transaction (entityManager) takes no chosen id: a retried transaction enqueues again; use a uniqueKey",
    );
}

/** The one EntityManager of a batch (or none): one batch, one transaction. */
function sharedEntityManager(jobs: JobToEnqueue[]): EntityManager | undefined {
  const managers = new Set(jobs.map((job) => job.entityManager));
  if (managers.size > 1)
    throw new RangeError('The jobs of one enqueueMany call are all in one transaction, or none is');
  return jobs[0].entityManager;
}

import { Inject, Injectable } from '@nestjs/common';
import { BackgroundJobPriority } from './background-job-priority';
import { BackgroundJobRegistry } from './background-job.registry';
import { BACKGROUND_JOBS_OPTIONS } from './background-jobs.tokens';
import { ResolvedBackgroundJobsOptions } from './background-jobs.options';
import { MAX_JOB_ARGS_LENGTH } from './background-jobs.constants';
import { JobArgsTooLargeError, StoreUnavailableError } from './errors';
import { BACKGROUND_JOB_STORE, BackgroundJobStore, EnqueueBatch } from './store/background-job-store';
import { enqueueFingerprint } from './store/enqueue-keys';
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
}

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
  /** Many jobs in one round trip; returns their ids in order. */
  enqueueMany(jobs: JobToEnqueue[]): Promise<string[]>;
}

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
export class BackgroundJobManager implements IBackgroundJobManager {
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

  async enqueueMany(jobs: JobToEnqueue[]): Promise<string[]> {
    if (jobs.length === 0) return [];
    const now = new Date();
    const newJobs = jobs.map((job) => this.toNewJob(job, now));
    const keys = newJobs
      .filter((_, index) => jobs[index].id !== undefined)
      .map((job) => ({ id: job.id, fingerprint: enqueueFingerprint(job.jobName, job.jobArgs) }));
    const batch: EnqueueBatch = {
      applicationName: this.options.worker.applicationName,
      creationTime: now,
      jobs: newJobs,
      ...(keys.length > 0 ? { keys } : {}),
    };
    const ids = newJobs.map((job) => job.id);
    // Listeners (a tracer) may give the rows extra properties, such as the enqueue's trace context.
    return this.lifecycle.enqueue(newJobs, async (extraProperties) => {
      if (extraProperties && Object.keys(extraProperties).length > 0)
        batch.extraProperties = JSON.stringify(extraProperties);
      try {
        await this.write(batch);
      } catch (error) {
        if (error instanceof StoreUnavailableError || keys.length === 0) throw error;
        // Perhaps a repeat of an enqueue whose answer was lost: write only what was not enqueued yet.
        const remaining = await this.withoutEnqueuedAlready(batch);
        if (remaining.jobs.length === batch.jobs.length) throw error;
        if (remaining.jobs.length > 0) await this.write(remaining);
      }
      return ids;
    });
  }

  private async write(batch: EnqueueBatch): Promise<void> {
    try {
      await this.store.enqueue(batch);
    } catch (error) {
      throw this.store.isUnavailable(error) ? new StoreUnavailableError(error) : error;
    }
    this.lifecycle.jobsEnqueued(batch);
    this.wakeup.wake();
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
    return {
      id: job.id?.toLowerCase() ?? newSequentialGuid(now.getTime()),
      jobName,
      jobArgs,
      priority,
      nextTryTime: delay === 0 ? now : new Date(now.getTime() + delay),
      concurrencyStamp: newConcurrencyStamp(),
    };
  }
}

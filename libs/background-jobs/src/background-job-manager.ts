import { Inject, Injectable } from '@nestjs/common';
import { BackgroundJobPriority } from './background-job-priority';
import { BackgroundJobRegistry } from './background-job.registry';
import { BACKGROUND_JOBS_OPTIONS } from './background-jobs.tokens';
import { ResolvedBackgroundJobsOptions } from './background-jobs.options';
import { MAX_JOB_ARGS_LENGTH } from './background-jobs.constants';
import { JobArgsTooLargeError, StoreUnavailableError } from './errors';
import { BACKGROUND_JOB_STORE, BackgroundJobStore, EnqueueBatch } from './store/background-job-store';
import { newConcurrencyStamp, newSequentialGuid } from './store/stamps';
import { WorkerWakeup } from './worker/worker-wakeup';

export interface EnqueueOptions {
  priority?: BackgroundJobPriority;
  /** Milliseconds before the job becomes due. */
  delay?: number;
  /**
   * The job's id (a UUID), for an enqueue that may be repeated: when a row with this id already
   * holds the same job, the enqueue writes nothing and returns the id, so a retry after an answer
   * that was lost cannot queue the job twice. A job that has already run is deleted and cannot be
   * recognised: choose ids that are not reused once their job may have run.
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

/** An enqueue with a chosen id that a row holding another job already has; nothing was written. */
export class JobIdTakenError extends Error {
  constructor(readonly id: string) {
    super(`A background job with the id ${id} already exists and holds another job`);
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
    const batch: EnqueueBatch = {
      applicationName: this.options.worker.applicationName,
      creationTime: now,
      jobs: jobs.map((job) => this.toNewJob(job, now)),
    };
    const ids = batch.jobs.map((job) => job.id);
    try {
      await this.write(batch);
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      // Perhaps a repeat of an enqueue whose answer was lost: write only what is not there yet.
      const remaining = await this.withoutQueuedAlready(batch, jobs);
      if (remaining.length === batch.jobs.length) throw error;
      if (remaining.length > 0) await this.write({ ...batch, jobs: remaining });
    }
    return ids;
  }

  private async write(batch: EnqueueBatch): Promise<void> {
    try {
      await this.store.enqueue(batch);
    } catch (error) {
      throw this.store.isUnavailable(error) ? new StoreUnavailableError(error) : error;
    }
    this.wakeup.wake();
  }

  /**
   * After a refused insert: the jobs of the batch not already in the table under the id their
   * caller chose. A row with that id holding another job is an error, not a repeat.
   */
  private async withoutQueuedAlready(batch: EnqueueBatch, jobs: JobToEnqueue[]): Promise<EnqueueBatch['jobs']> {
    const remaining: EnqueueBatch['jobs'] = [];
    for (const [index, job] of batch.jobs.entries()) {
      if (jobs[index].id === undefined) {
        remaining.push(job);
        continue;
      }
      let row;
      try {
        row = await this.store.find(job.id);
      } catch (error) {
        throw this.store.isUnavailable(error) ? new StoreUnavailableError(error) : error;
      }
      if (row === undefined) remaining.push(job);
      else if (row.jobName !== job.jobName || row.jobArgs !== job.jobArgs) throw new JobIdTakenError(job.id);
    }
    return remaining;
  }

  private toNewJob(job: JobToEnqueue, now: Date): EnqueueBatch['jobs'][number] {
    const jobName = job.jobName !== undefined ? this.registry.getByName(job.jobName).jobName : this.registry.getByArgs(job.args).jobName;
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
    if (job.id !== undefined && !UUID.test(job.id)) throw new RangeError(`A background job id is a UUID, got ${JSON.stringify(job.id)}`);
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

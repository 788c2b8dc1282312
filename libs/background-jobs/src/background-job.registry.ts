import { Injectable } from '@nestjs/common';
import { DuplicateBackgroundJobError, UndefinedBackgroundJobError } from './errors';
import { ArgsType } from './decorators/background-job-name.decorator';
import { AsyncBackgroundJob } from './async-background-job';

export interface RegisteredBackgroundJob {
  jobName: string;
  argsType: ArgsType;
  jobTypeName: string;
  /** Milliseconds; undefined: the worker's default. */
  timeoutMs?: number;
  /** Resolves the job instance (a new one for transient or request-scoped providers). */
  resolve(): Promise<AsyncBackgroundJob<unknown>>;
  /** The one instance of a singleton job, when there is one: used without resolving. */
  instance?: AsyncBackgroundJob<unknown>;
}

/** ABP's job registry: one job per job name, one job name per args type. */
@Injectable()
export class BackgroundJobRegistry {
  private readonly byName = new Map<string, RegisteredBackgroundJob>();
  private readonly byArgsType = new Map<ArgsType, RegisteredBackgroundJob>();

  register(job: RegisteredBackgroundJob): void {
    const existing = this.byName.get(job.jobName) ?? this.byArgsType.get(job.argsType);
    if (existing) throw new DuplicateBackgroundJobError(job.jobName, existing.jobTypeName, job.jobTypeName);
    this.byName.set(job.jobName, job);
    this.byArgsType.set(job.argsType, job);
  }

  get jobNames(): string[] {
    return [...this.byName.keys()];
  }

  findByName(jobName: string): RegisteredBackgroundJob | undefined {
    return this.byName.get(jobName);
  }

  getByName(jobName: string): RegisteredBackgroundJob {
    const job = this.byName.get(jobName);
    if (!job) throw new UndefinedBackgroundJobError(jobName);
    return job;
  }

  getByArgs(args: object): RegisteredBackgroundJob {
    const job = this.byArgsType.get(args.constructor as ArgsType);
    if (!job) throw new UndefinedBackgroundJobError(args.constructor?.name ?? typeof args);
    return job;
  }
}

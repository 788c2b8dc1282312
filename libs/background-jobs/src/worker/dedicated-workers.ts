import type { BackgroundJobWorkerConfiguration, BackgroundJobWorkerOptions } from '../background-jobs.options';
import type { BackgroundJobRegistry } from '../background-job.registry';
import { ArgsType, getJobName } from '../decorators/background-job-name.decorator';

/** ABP's `DistributedLockName`: the default worker's name, which no dedicated worker may take. */
export const DEFAULT_WORKER_LOCK_NAME = 'AbpBackgroundJobWorker';
/** ABP's prefix of a dedicated worker's lock name when none is given. */
const DERIVED_LOCK_NAME_PREFIX = 'AbpBackgroundJobDedicatedWorker:';

/** A job a dedicated worker takes: its args class (as ABP names it) or, for jobs with no class, its job name. */
export type DedicatedJob = ArgsType | string;

/**
 * ABP's `AddDedicatedWorker`: the options with one more dedicated worker, which alone runs these
 * jobs while the default worker runs the rest. The first argument, when text, is the worker's lock
 * name (its name in logs); without one the name is derived from the job names. `worker` is not changed.
 *
 *   worker: addDedicatedWorker({ maxParallelJobExecutionCount: 4 }, 'FeesWorker', AwsFeesArgs, AzureFeesArgs)
 */
export function addDedicatedWorker<T extends Partial<BackgroundJobWorkerOptions>>(
  worker: T,
  lockNameOrJob: string | ArgsType,
  ...jobs: DedicatedJob[]
): T & Pick<BackgroundJobWorkerOptions, 'workerConfigurations'> {
  const all = typeof lockNameOrJob === 'string' ? jobs : [lockNameOrJob, ...jobs];
  const jobNames = [...new Set(all.map((job) => (typeof job === 'string' ? job : getJobName(job))))];
  if (jobNames.length === 0) throw new Error('A dedicated background job worker needs at least one job');
  const lockName =
    typeof lockNameOrJob === 'string'
      ? lockNameOrJob
      : DERIVED_LOCK_NAME_PREFIX + [...jobNames].sort(compareOrdinal).join(',');
  const workerConfigurations = [...(worker.workerConfigurations ?? []), { lockName, jobNames }];
  checkWorkerConfigurations(workerConfigurations);
  return { ...worker, workerConfigurations };
}

/** ABP's rules: a lock name of its own (not the default worker's), at least one job, no job in two dedicated workers. */
export function checkWorkerConfigurations(configurations: readonly BackgroundJobWorkerConfiguration[]): void {
  const lockNames = new Set<string>([DEFAULT_WORKER_LOCK_NAME]);
  const owners = new Map<string, string>();
  for (const { lockName, jobNames } of configurations) {
    if (typeof lockName !== 'string' || lockName.trim() === '') {
      throw new Error(`A dedicated background job worker needs a lock name, got ${JSON.stringify(lockName)}`);
    }
    if (lockNames.has(lockName)) {
      throw new Error(
        `The lock name "${lockName}" is already used by another background job worker; each worker needs its own`,
      );
    }
    lockNames.add(lockName);
    if (!Array.isArray(jobNames) || jobNames.length === 0) {
      throw new Error(`The dedicated background job worker "${lockName}" needs at least one job`);
    }
    for (const name of jobNames) {
      const owner = owners.get(name);
      if (owner !== undefined && owner !== lockName) {
        throw new Error(
          `The background job "${name}" is already assigned to the dedicated worker "${owner}"; a job can have only one dedicated worker`,
        );
      }
      owners.set(name, lockName);
    }
  }
}

/** The job names a worker claims now: read on every claim, so dynamic handlers registered later are included. */
export interface JobNameSource {
  readonly current: string[];
}

/** The registered job names that one worker runs, recomputed only when the registry changed. */
export class JobNameSelection implements JobNameSource {
  private version = -1;
  private names: string[] = [];

  constructor(
    private readonly registry: BackgroundJobRegistry,
    private readonly runs: (jobName: string) => boolean,
  ) {}

  get current(): string[] {
    if (this.version !== this.registry.version) {
      this.names = this.registry.jobNames.filter(this.runs);
      this.version = this.registry.version;
    }
    return this.names;
  }
}

/** One worker a process runs: the default one, or a dedicated one. */
export interface PlannedWorker {
  lockName: string;
  dedicated: boolean;
  jobNames: JobNameSelection;
}

type NameOptions = Pick<BackgroundJobWorkerOptions, 'jobNames' | 'excludeJobNames' | 'workerConfigurations'>;

/**
 * The workers of this process, as ABP 10 runs them: each dedicated worker takes its names, the
 * default worker every other registered name. `JobNames` (when set) limits the process to those
 * names and `ExcludeJobNames` takes names away, from every worker. Names the settings give that no
 * job is registered for stop the start (a typo would otherwise run or leave the wrong jobs); so do
 * names both run and excluded. Dedicated workers none of whose names run here are not started.
 */
export function planWorkers(registry: BackgroundJobRegistry, options: NameOptions): PlannedWorker[] {
  const registered = registry.jobNames;
  const { jobNames, excludeJobNames, workerConfigurations } = options;
  const unknown = (names: readonly string[]) => names.filter((name) => !registered.includes(name));
  const unknownRun = unknown(jobNames);
  if (unknownRun.length > 0) {
    throw new Error(
      `The worker is told to run job names that no job is registered for: ${unknownRun.join(', ')} (registered: ${registered.join(', ')})`,
    );
  }
  const unknownExcluded = unknown(excludeJobNames);
  if (unknownExcluded.length > 0) {
    throw new Error(
      `The worker is told to exclude job names that no job is registered for: ${unknownExcluded.join(', ')} (registered: ${registered.join(', ')})`,
    );
  }
  const both = jobNames.filter((name) => excludeJobNames.includes(name));
  if (both.length > 0) {
    throw new Error(`The worker is told both to run and to exclude the job names: ${both.join(', ')}`);
  }
  for (const configuration of workerConfigurations) {
    const missing = unknown(configuration.jobNames);
    if (missing.length > 0) {
      throw new Error(
        `The dedicated worker "${configuration.lockName}" is given job names that no job is registered for: ${missing.join(', ')} (registered: ${registered.join(', ')})`,
      );
    }
  }

  const included = jobNames.length > 0 ? new Set(jobNames) : undefined;
  const excluded = new Set(excludeJobNames);
  const runsHere = (name: string) => (included === undefined || included.has(name)) && !excluded.has(name);
  const dedicatedNames = new Set(workerConfigurations.flatMap((c) => c.jobNames));
  const dedicated = workerConfigurations
    .map((configuration) => {
      const own = new Set(configuration.jobNames);
      return {
        lockName: configuration.lockName,
        dedicated: true,
        jobNames: new JobNameSelection(registry, (name) => own.has(name) && runsHere(name)),
      };
    })
    .filter((worker) => worker.jobNames.current.length > 0);
  const defaultWorker = {
    lockName: DEFAULT_WORKER_LOCK_NAME,
    dedicated: false,
    jobNames: new JobNameSelection(registry, (name) => !dedicatedNames.has(name) && runsHere(name)),
  };
  return [defaultWorker, ...dedicated];
}

function compareOrdinal(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

import 'reflect-metadata';
import { AsyncBackgroundJob } from '../async-background-job';
import { BackgroundJobRegistry } from '../background-job.registry';
import { resolveOptions } from '../background-jobs.options';
import { BackgroundJobName } from '../decorators/background-job-name.decorator';
import { addDedicatedWorker, DEFAULT_WORKER_LOCK_NAME, planWorkers } from './dedicated-workers';

@BackgroundJobName('Fees.Aws')
class AwsFeesArgs {}
class AzureFeesArgs {}
class EmailArgs {}

/** A registry with jobs of these names (no classes behind them; planning reads names only). */
function registryOf(...names: string[]): BackgroundJobRegistry {
  const registry = new BackgroundJobRegistry();
  for (const jobName of names) {
    const argsType = { [jobName]: class {} }[jobName];
    registry.register({
      jobName,
      argsType,
      jobTypeName: `${jobName}Job`,
      resolve: async () => ({}) as AsyncBackgroundJob<unknown>,
    });
  }
  return registry;
}

const names = (plan: ReturnType<typeof planWorkers>) =>
  plan.map((w) => [w.lockName, w.dedicated, w.jobNames.current] as const);

describe("addDedicatedWorker (ABP's AddDedicatedWorker)", () => {
  it('adds a dedicated worker by lock name and args classes (their job names), leaving the given options unchanged', () => {
    const base = { maxParallelJobExecutionCount: 4 };
    const options = addDedicatedWorker(base, 'FeesWorker', AwsFeesArgs, AzureFeesArgs);
    expect(options).toEqual({
      maxParallelJobExecutionCount: 4,
      workerConfigurations: [{ lockName: 'FeesWorker', jobNames: ['Fees.Aws', 'AzureFeesArgs'] }],
    });
    expect(base).toEqual({ maxParallelJobExecutionCount: 4 });
    const more = addDedicatedWorker(options, 'Mail', EmailArgs, 'DynamicJob');
    expect(more.workerConfigurations).toEqual([
      { lockName: 'FeesWorker', jobNames: ['Fees.Aws', 'AzureFeesArgs'] },
      { lockName: 'Mail', jobNames: ['EmailArgs', 'DynamicJob'] },
    ]);
  });

  it('derives the lock name from the job names when none is given', () => {
    expect(addDedicatedWorker({}, AzureFeesArgs, AwsFeesArgs).workerConfigurations).toEqual([
      { lockName: 'AbpBackgroundJobDedicatedWorker:AzureFeesArgs,Fees.Aws', jobNames: ['AzureFeesArgs', 'Fees.Aws'] },
    ]);
  });

  it("refuses what ABP refuses: a job in two dedicated workers, a lock name used twice or the default worker's, no jobs", () => {
    const one = addDedicatedWorker({}, 'A', AwsFeesArgs);
    expect(() => addDedicatedWorker(one, 'B', AwsFeesArgs)).toThrow(
      'The background job "Fees.Aws" is already assigned to the dedicated worker "A"; a job can have only one dedicated worker',
    );
    expect(() => addDedicatedWorker(one, 'A', EmailArgs)).toThrow(/lock name "A" is already used/);
    expect(() => addDedicatedWorker({}, DEFAULT_WORKER_LOCK_NAME, EmailArgs)).toThrow(
      /lock name "AbpBackgroundJobWorker" is already used/,
    );
    expect(() => addDedicatedWorker({}, 'Empty')).toThrow('A dedicated background job worker needs at least one job');
    expect(() => resolveOptions({ worker: { workerConfigurations: [{ lockName: ' ', jobNames: ['X'] }] } })).toThrow(
      /needs a lock name/,
    );
  });
});

describe('planWorkers: the workers of one process', () => {
  const plan = (registry: BackgroundJobRegistry, worker: Parameters<typeof resolveOptions>[0]['worker'] = {}) =>
    planWorkers(registry, resolveOptions({ worker }).worker);

  it('one default worker for every registered name when nothing is configured', () => {
    expect(names(plan(registryOf('A', 'B')))).toEqual([[DEFAULT_WORKER_LOCK_NAME, false, ['A', 'B']]]);
  });

  it('the default worker excludes the names a dedicated worker takes', () => {
    const registry = registryOf('Fees.Aws', 'AzureFeesArgs', 'EmailArgs');
    expect(names(plan(registry, addDedicatedWorker({}, 'Fees', AwsFeesArgs, AzureFeesArgs)))).toEqual([
      [DEFAULT_WORKER_LOCK_NAME, false, ['EmailArgs']],
      ['Fees', true, ['Fees.Aws', 'AzureFeesArgs']],
    ]);
  });

  it('ExcludeJobNames takes names from every worker; JobNames limits the process to its names', () => {
    const registry = registryOf('A', 'B', 'C', 'D');
    expect(names(plan(registry, { excludeJobNames: ['B'] }))).toEqual([
      [DEFAULT_WORKER_LOCK_NAME, false, ['A', 'C', 'D']],
    ]);
    expect(names(plan(registry, { jobNames: ['A', 'C'] }))).toEqual([[DEFAULT_WORKER_LOCK_NAME, false, ['A', 'C']]]);
    const dedicated = addDedicatedWorker({ excludeJobNames: ['C'] }, 'CD', 'C', 'D');
    expect(names(plan(registry, dedicated))).toEqual([
      [DEFAULT_WORKER_LOCK_NAME, false, ['A', 'B']],
      ['CD', true, ['D']],
    ]);
    // A dedicated worker none of whose names run here is not started.
    expect(names(plan(registry, addDedicatedWorker({ jobNames: ['A'] }, 'CD', 'C', 'D')))).toEqual([
      [DEFAULT_WORKER_LOCK_NAME, false, ['A']],
    ]);
  });

  it('follows dynamic handlers registered and unregistered later', () => {
    const registry = registryOf('A');
    const [defaultWorker] = plan(registry, { excludeJobNames: ['A'] });
    expect(defaultWorker.jobNames.current).toEqual([]);
    registry.registerHandler('Dynamic', () => undefined);
    expect(defaultWorker.jobNames.current).toEqual(['Dynamic']);
    registry.unregisterHandler('Dynamic');
    expect(defaultWorker.jobNames.current).toEqual([]);
  });

  it('stops the start on names no job is registered for, and on a name both run and excluded', () => {
    const registry = registryOf('A', 'B');
    expect(() => plan(registry, { jobNames: ['Typo'] })).toThrow(
      'The worker is told to run job names that no job is registered for: Typo (registered: A, B)',
    );
    expect(() => plan(registry, { excludeJobNames: ['Typo'] })).toThrow(
      'The worker is told to exclude job names that no job is registered for: Typo (registered: A, B)',
    );
    expect(() => plan(registry, { jobNames: ['A'], excludeJobNames: ['A'] })).toThrow(
      'The worker is told both to run and to exclude the job names: A',
    );
    expect(() => plan(registry, addDedicatedWorker({}, 'X', 'Typo'))).toThrow(
      'The dedicated worker "X" is given job names that no job is registered for: Typo (registered: A, B)',
    );
  });
});

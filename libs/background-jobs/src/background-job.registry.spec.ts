import { BackgroundJobRegistry, RegisteredBackgroundJob } from './background-job.registry';
import { ArgsType } from './decorators/background-job-name.decorator';
import { DuplicateBackgroundJobError, UndefinedBackgroundJobError } from './errors';

class EmailArgs {}
class SmsArgs {}

const entry = (jobName: string, argsType: ArgsType, jobTypeName: string): RegisteredBackgroundJob => ({
  jobName,
  argsType,
  jobTypeName,
  resolve: () => Promise.reject(new Error('not resolved in these tests')),
});

describe('BackgroundJobRegistry', () => {
  let registry: BackgroundJobRegistry;
  beforeEach(() => {
    registry = new BackgroundJobRegistry();
    registry.register(entry('EmailArgs', EmailArgs, 'EmailJob'));
  });

  it('finds a job by name and by an instance of its args class', () => {
    expect(registry.getByName('EmailArgs').jobTypeName).toBe('EmailJob');
    expect(registry.getByArgs(new EmailArgs()).jobTypeName).toBe('EmailJob');
    expect(registry.findByName('Nope')).toBeUndefined();
    expect(registry.jobNames).toEqual(['EmailArgs']);
  });

  it('refuses a second job for one job name, naming both job classes', () => {
    const register = () => registry.register(entry('EmailArgs', SmsArgs, 'OtherEmailJob'));
    expect(register).toThrow(DuplicateBackgroundJobError);
    expect(register).toThrow(/"EmailArgs".*EmailJob and OtherEmailJob/);
  });

  it('refuses a second job for one args class', () => {
    expect(() => registry.register(entry('Renamed', EmailArgs, 'SecondEmailJob'))).toThrow(
      /EmailJob and SecondEmailJob/,
    );
    expect(registry.findByName('Renamed')).toBeUndefined();
  });

  it("gives ABP's message for an unknown job name or args type", () => {
    expect(() => registry.getByName('SmsArgs')).toThrow(UndefinedBackgroundJobError);
    expect(() => registry.getByName('SmsArgs')).toThrow('Undefined background job for the job args type/name: SmsArgs');
    expect(() => registry.getByArgs(new SmsArgs())).toThrow(
      'Undefined background job for the job args type/name: SmsArgs',
    );
  });

  it('does not take a plain object for an instance of a registered args class', () => {
    expect(() => registry.getByArgs({ to: 'x' })).toThrow(
      'Undefined background job for the job args type/name: Object',
    );
  });
});

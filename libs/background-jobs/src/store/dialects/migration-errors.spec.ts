import { MigrationPermissionError, migrationStepError } from './migration-errors';

describe('migrationStepError', () => {
  const error = (fields: Record<string, unknown>, message = 'refused') => Object.assign(new Error(message), fields);

  it.each([
    ['postgres', error({ code: '42501' }, 'must be owner of table AbpBackgroundJobs'), /only the owner of a table/],
    [
      'mysql',
      error({ errno: 1142 }, "INDEX command denied to user 'app'@'%'"),
      /the CREATE, ALTER, INDEX and DROP privileges/,
    ],
    ['sqlserver', error({ number: 1088 }), /ALTER on the table AbpBackgroundJobs/],
    ['sqlserver', error({ number: 262 }, 'CREATE TABLE permission denied'), /CREATE TABLE in the database/],
    [
      'sqlite',
      error({ code: 'SQLITE_READONLY' }, 'attempt to write a readonly database'),
      /write access to the database file/,
    ],
  ] as const)(
    'on %s explains a refusal: the step, what it needs, and how to migrate with another login',
    (dialect, cause, needs) => {
      const explained = migrationStepError(dialect, 'creating our index IX_AbpBackgroundJobs_Dequeue', cause);
      expect(explained).toBeInstanceOf(MigrationPermissionError);
      expect((explained as Error).cause).toBe(cause);
      const message = (explained as Error).message;
      expect(message).toMatch(
        /^Migrating AbpBackgroundJobs failed while creating our index IX_AbpBackgroundJobs_Dequeue: /,
      );
      expect(message).toContain(`(${cause.message})`);
      expect(message).toMatch(needs);
      expect(message).toContain(
        'set ConnectionStrings__AbpBackgroundJobsMigration to its connection string and run `npm run migrate`',
      );
    },
  );

  it('passes other errors on as they are', () => {
    for (const [dialect, other] of [
      ['postgres', error({ code: '42P07' })],
      ['mysql', error({ errno: 1213 })],
      ['sqlserver', error({ number: 1205 })],
      ['sqlite', error({ code: 'SQLITE_BUSY' })],
    ] as const)
      expect(migrationStepError(dialect, 'x', other)).toBe(other);
  });
});

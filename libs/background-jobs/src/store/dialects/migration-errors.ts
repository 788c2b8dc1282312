import type { DatabaseProvider } from '../../connection/database-provider';

/**
 * A migration step refused for want of a permission, explained: which step, what the database
 * needs for it, and how to run the migration once with a login that has it. The apps' login then
 * needs no more than reading and writing rows: a migration that finds everything in place sends no
 * DDL (see each dialect's schema file).
 */
export class MigrationPermissionError extends Error {
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = 'MigrationPermissionError';
  }
}

/** What each database asks of a login for the DDL a migration may send. */
const NEEDED: Record<DatabaseProvider, string> = {
  postgres:
    'PostgreSQL lets only the owner of a table create or drop its indexes (and CREATE on the schema to make a table)',
  mysql: 'the CREATE, ALTER, INDEX and DROP privileges on the database',
  sqlserver:
    'ALTER on the table AbpBackgroundJobs (CREATE INDEX, DROP INDEX) and CREATE TABLE in the database (with ALTER on its schema)',
  sqlite: 'write access to the database file and to its directory',
};

/** Database errors that mean "this login may not", by dialect. */
function isPermissionError(dialect: DatabaseProvider, error: unknown): boolean {
  const e = error as { code?: unknown; errno?: unknown; number?: unknown } | undefined;
  switch (dialect) {
    case 'postgres':
      return e?.code === '42501'; // insufficient_privilege: "must be owner of table", "permission denied for schema"
    case 'mysql':
      // Table access denied (CREATE/INDEX/ALTER/DROP command denied), database access denied, specific access denied.
      return e?.errno === 1142 || e?.errno === 1044 || e?.errno === 1227;
    case 'sqlserver':
      // 262 CREATE TABLE permission denied; 1088 cannot find the object or no permission (CREATE INDEX);
      // 3701 cannot drop ... or no permission; 229/230 permission denied on an object or column; 2760 schema.
      return [262, 1088, 3701, 229, 230, 2760].includes(Number(e?.number));
    case 'sqlite':
      return typeof e?.code === 'string' && e.code.startsWith('SQLITE_READONLY');
  }
}

/**
 * The error a migration step failed with: a MigrationPermissionError saying which step needs which
 * permission and how to run `npm run migrate` with another login when the database refused it for
 * want of one; the error itself otherwise.
 */
export function migrationStepError(dialect: DatabaseProvider, step: string, error: unknown): unknown {
  if (!isPermissionError(dialect, error)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new MigrationPermissionError(
    `Migrating AbpBackgroundJobs failed while ${step}: the database login may not (${reason}). ` +
      `It needs ${NEEDED[dialect]}. Run the migration once with a login that may: set ` +
      'ConnectionStrings__AbpBackgroundJobsMigration to its connection string and run `npm run migrate`; ' +
      'after that the apps need only read and write rows (Database__AutoMigrate finds nothing left to do, or set ' +
      'it to false).',
    error,
  );
}

import { createHash } from 'node:crypto';

/**
 * ABP's AbpBackgroundJobsDbProperties.DbTablePrefix ("Abp") and DbSchema (none) for this module's
 * tables: AbpBackgroundJobs and ours beside it (AbpBackgroundJobEnqueueKeys, ...Workers, ...Schedules,
 * ...Cancellations) and every index and constraint name on them.
 *
 * The dialects write their statements with the default names. A store with another prefix or a
 * schema renames each statement's text once (kept per store, see `sql`) before it is sent: a
 * table reference gets the prefix and, quoted as the dialect quotes, the schema; index and
 * constraint names get the prefix; the catalog lookups that name the current schema name this one.
 * A prefix and a schema are letters, digits and underscores only, so no quoting escape is ever
 * needed and no name can reach into the SQL around it. With the defaults nothing is renamed: the
 * statements are today's text, byte for byte.
 */
export type SqlDialect = 'postgres' | 'mysql' | 'sqlite' | 'mssql' | 'memory';

export interface TableNameOptions {
  /** ABP's DbTablePrefix; "Abp" by default. */
  tablePrefix?: string;
  /** ABP's DbSchema; none by default (the connection's schema or database). Not on SQLite. */
  schema?: string;
}

export const DEFAULT_TABLE_PREFIX = 'Abp';
/** The longest prefix whose names (IX_<prefix>BackgroundJobs_IsAbandoned_NextTryTime...) fit PostgreSQL's 63 characters. */
export const MAX_TABLE_PREFIX_LENGTH = 20;
const NAME = /^[A-Za-z0-9_]*$/;
const MAX_KEPT_STATEMENTS = 5000;
const TABLE_SUFFIXES = [
  'BackgroundJobs',
  'BackgroundJobEnqueueKeys',
  'BackgroundJobWorkers',
  'BackgroundJobSchedules',
  'BackgroundJobCancellations',
  'BackgroundJobLocks',
];
/** ABP's index on its table, before EF Core cuts it to the dialect's longest identifier. */
const ABP_INDEX_TAIL = '_ApplicationName_CompletionTime_IsAbandoned_NextTryTime';
const MAX_IDENTIFIER: Record<SqlDialect, number> = {
  postgres: 63,
  mysql: 64,
  mssql: 128,
  sqlite: Infinity,
  memory: Infinity,
};

/** Throws a clear error on a prefix or schema this module cannot use; returns the names otherwise. */
export function validateTableNameOptions(
  dialect: SqlDialect,
  options: TableNameOptions = {},
): Required<TableNameOptions> {
  const tablePrefix = options.tablePrefix ?? DEFAULT_TABLE_PREFIX;
  const schema = options.schema ?? '';
  if (!NAME.test(tablePrefix) || tablePrefix.length > MAX_TABLE_PREFIX_LENGTH)
    throw new Error(
      `Background jobs: the table prefix "${tablePrefix}" is not usable: letters, digits and underscores only, at most ${MAX_TABLE_PREFIX_LENGTH} characters (BackgroundJobs__DbTablePrefix, option tablePrefix)`,
    );
  if (!NAME.test(schema) || schema.length > 63)
    throw new Error(
      `Background jobs: the schema "${schema}" is not usable: letters, digits and underscores only, at most 63 characters (BackgroundJobs__DbSchema, option schema)`,
    );
  if (schema && dialect === 'sqlite')
    throw new Error(
      `Background jobs: SQLite has no schemas; remove BackgroundJobs__DbSchema (option schema "${schema}") or use another database`,
    );
  return { tablePrefix, schema };
}

/** EF Core's cut of a name longer than the dialect allows: the first (max - 1) characters and "~". */
function efIdentifier(name: string, max: number): string {
  return name.length > max ? `${name.slice(0, max - 1)}~` : name;
}

export class TableNames {
  readonly tablePrefix: string;
  readonly schema: string;
  /** True for ABP's defaults: statements are sent as written. */
  readonly isDefault: boolean;
  /** '' by default, else a short tag that tells this name set apart (PostgreSQL prepared statements carry it). */
  readonly tag: string;
  private readonly renamed = new Map<string, string>();
  private readonly rules: [RegExp, string | ((match: string) => string)][];

  constructor(
    readonly dialect: SqlDialect,
    options: TableNameOptions = {},
  ) {
    const { tablePrefix, schema } = validateTableNameOptions(dialect, options);
    this.tablePrefix = tablePrefix;
    this.schema = schema;
    this.isDefault = tablePrefix === DEFAULT_TABLE_PREFIX && !schema;
    this.tag = this.isDefault ? '' : `_t_${schema ? `${schema}_` : ''}${tablePrefix}`;
    this.rules = this.isDefault ? [] : this.buildRules();
  }

  /** The table's own name: AbpBackgroundJobs with the defaults. */
  get table(): string {
    return `${this.tablePrefix}BackgroundJobs`;
  }

  /**
   * A named lock's name (tryWithLock) for these tables: as given with ABP's defaults, else with the
   * schema and prefix, so stores of other tables in the same database never hold each other's locks.
   */
  lockName(name: string): string {
    return this.isDefault ? name : `${name}@${this.schema ? `${this.schema}.` : ''}${this.tablePrefix}`;
  }

  /** A table name as the dialect quotes it, with the schema when there is one. */
  qualified(name: string): string {
    const q = (id: string) => quote(this.dialect, id);
    return this.schema ? `${q(this.schema)}.${q(name)}` : q(name);
  }

  /**
   * A PostgreSQL LISTEN/NOTIFY channel: 'abp_background_jobs' by default, else with the schema and
   * prefix in lower case instead of 'abp' (a long pair cut and told apart by a hash: channels are
   * identifiers of at most 63 characters).
   */
  channel(defaultChannel: string): string {
    return this.isDefault ? defaultChannel : defaultChannel.replace(/^abp_/, `${this.channelHead}_`);
  }

  private get channelHead(): string {
    const head = `${this.schema ? `${this.schema}_` : ''}${this.tablePrefix}`.toLowerCase();
    return head.length <= 32
      ? head
      : `${head.slice(0, 23)}_${createHash('sha256').update(head).digest('hex').slice(0, 8)}`;
  }

  /** A statement's text for these names; each text is renamed once per store and kept. */
  sql(text: string): string {
    if (this.isDefault) return text;
    let out = this.renamed.get(text);
    if (out === undefined) {
      out = text;
      for (const [pattern, replacement] of this.rules) out = out.replace(pattern, replacement as string);
      // Statements are a fixed set (with IN lists of up to MAX_IDS_PER_STATEMENT placeholders); the cap only guards against a leak.
      if (this.renamed.size < MAX_KEPT_STATEMENTS) this.renamed.set(text, out);
    }
    return out;
  }

  /**
   * A name or definition the catalog gave back, with ABP's default names again: the migrations
   * compare what they find with what they would make, and they make it with the default names.
   */
  original(text: string): string {
    if (this.isDefault) return text;
    const [open, close] = quotes(this.dialect);
    let out = text;
    if (this.schema)
      out = out
        .split(`${open}${this.schema}${close}.`)
        .join('')
        .replace(new RegExp(`(?<![A-Za-z0-9_"\`\\]])${this.schema}\\.`, 'g'), '');
    out = out.replace(new RegExp(`(?<![A-Za-z0-9])${this.tablePrefix}BackgroundJob`, 'g'), 'AbpBackgroundJob');
    const abpIndex = efIdentifier(
      `IX_${this.tablePrefix}BackgroundJobs${ABP_INDEX_TAIL}`,
      MAX_IDENTIFIER[this.dialect],
    );
    return out
      .split(abpIndex)
      .join(efIdentifier(`IX_AbpBackgroundJobs${ABP_INDEX_TAIL}`, MAX_IDENTIFIER[this.dialect]));
  }

  /** A PostgreSQL object's name as to_regclass takes it: renamed, in the schema when there is one. */
  regclass(quotedName: string): string {
    const renamed = this.sql(quotedName);
    return this.schema && !renamed.includes('.') ? `"${this.schema}".${renamed}` : renamed;
  }

  private buildRules(): [RegExp, string | ((match: string) => string)][] {
    const { dialect, tablePrefix, schema } = this;
    const [open, close] = quotes(dialect);
    const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const rules: [RegExp, string | ((match: string) => string)][] = [];
    // ABP's own index: IX_<table>_..., cut as EF Core cuts it on this dialect.
    const abpIndex = efIdentifier(`IX_AbpBackgroundJobs${ABP_INDEX_TAIL}`, MAX_IDENTIFIER[dialect]);
    rules.push([
      new RegExp(esc(abpIndex), 'g'),
      efIdentifier(`IX_${tablePrefix}BackgroundJobs${ABP_INDEX_TAIL}`, MAX_IDENTIFIER[dialect]),
    ]);
    // A table reference, quoted: schema-qualified.
    rules.push([
      new RegExp(`${esc(open)}Abp(${TABLE_SUFFIXES.join('|')})${esc(close)}`, 'g'),
      (match: string) => this.qualified(`${tablePrefix}${match.slice(open.length + 3, match.length - close.length)}`),
    ]);
    // Every other name that carries the prefix: index and constraint names, catalog literals.
    rules.push([/(?<![A-Za-z0-9])AbpBackgroundJob/g, `${tablePrefix}BackgroundJob`]);
    // PostgreSQL's NOTIFY channels follow the names (two prefixed tables in one database wake only their own workers).
    if (dialect === 'postgres') rules.push([/'abp_background_jobs/g, `'${this.channelHead}_background_jobs`]);
    // The catalog lookups that mean "the connection's schema" mean this one.
    if (schema && dialect === 'postgres') rules.push([/current_schema\(\)/g, `'${schema}'`]);
    if (schema && dialect === 'mysql') rules.push([/DATABASE\(\)/g, `'${schema}'`]);
    if (schema && dialect === 'mssql') rules.push([/SCHEMA_NAME\(\)/g, `N'${schema}'`]);
    return rules;
  }
}

function quotes(dialect: SqlDialect): [string, string] {
  if (dialect === 'mysql') return ['`', '`'];
  if (dialect === 'mssql') return ['[', ']'];
  return ['"', '"'];
}

function quote(dialect: SqlDialect, id: string): string {
  const [open, close] = quotes(dialect);
  return `${open}${id}${close}`;
}

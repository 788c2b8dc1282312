import type { Database, Statement } from 'better-sqlite3';

/** Each SQL text prepared once per handle, as the SQLite store keeps its own. */
export class SqliteStatements {
  private readonly prepared = new Map<string, Statement>();

  constructor(readonly db: Database) {}

  get(sql: string): Statement {
    let statement = this.prepared.get(sql);
    if (!statement) this.prepared.set(sql, (statement = this.db.prepare(sql)));
    return statement;
  }
}

/**
 * Ids as the SQLite store writes them (upper case, as EF Core's SQLite provider does) and finds
 * them: in both cases, so rows written in lower case by older versions are found too.
 */
export function sqliteIdCases(id: string): [string, string] {
  return [id.toUpperCase(), id.toLowerCase()];
}

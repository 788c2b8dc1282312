import { ABP_TABLE_SHAPE, TableShape, tableColumns } from '@app/background-jobs/store/table-shape';
import type { QueryOptions, SqlParam, SqlResult, SqlRunner } from '@app/background-jobs/store/dialects/mssql-runner';

/** One statement as the SQL Server dialect handed it to the driver. */
export interface RecordedCall {
  /** The text exactly as sent. */
  sql: string;
  params: SqlParam[];
  options: QueryOptions | undefined;
  inTransaction: boolean;
}

/**
 * A SqlRunner that sends nothing: it records each statement at the seam between the SQL Server
 * dialect and the mssql driver, and answers with the replies queued for it (or no rows).
 */
export class RecordingSqlRunner implements SqlRunner {
  readonly calls: RecordedCall[] = [];
  readonly transactions: Array<'committed' | 'rolled back'> = [];
  private readonly replies: Array<SqlResult | Error> = [];
  private inTransaction = false;

  /** Queues the answers of the next statements, in order; an Error is thrown by its statement. */
  reply(...replies: Array<Partial<SqlResult> | Error>): this {
    for (const r of replies) this.replies.push(r instanceof Error ? r : { rows: [], rowsAffected: 0, ...r });
    return this;
  }

  async query(sql: string, params: SqlParam[] = [], options?: QueryOptions): Promise<SqlResult> {
    this.calls.push({ sql, params, options, inTransaction: this.inTransaction });
    const reply = this.replies.shift() ?? { rows: [], rowsAffected: 0 };
    if (reply instanceof Error) throw reply;
    return reply;
  }

  async transaction<T>(work: (runner: SqlRunner) => Promise<T>): Promise<T> {
    this.inTransaction = true;
    try {
      const result = await work(this);
      this.transactions.push('committed');
      return result;
    } catch (error) {
      this.transactions.push('rolled back');
      throw error;
    } finally {
      this.inTransaction = false;
    }
  }
}

/** A statement's text on one line, whitespace runs as one space: for asserting on the parts that carry meaning. */
export const oneLine = (sql: string): string => sql.replace(/\s+/g, ' ').trim();

/**
 * Makes `store` know its table as one of this shape, as its first look at the catalog would find
 * it, and forgets that look: the statements recorded after it are the ones under test.
 */
export async function knowingTheTable(
  store: { hasCompletionTimeColumn(): Promise<boolean> },
  sql: RecordingSqlRunner,
  shape: TableShape = ABP_TABLE_SHAPE,
): Promise<void> {
  sql.reply({ rows: tableColumns(shape).map((name) => ({ name })) });
  await store.hasCompletionTimeColumn();
  sql.calls.length = 0;
}

import { MssqlPoolRunner, MssqlRequestSource, QueryOptions, SqlParam, SqlResult, SqlRunner } from './mssql-runner';

/**
 * Statements on the caller's running transaction (the mssql Transaction a TypeORM query runner
 * holds): a transaction the store would open inside it is just that same transaction, since
 * SQL Server commits nothing before the outermost COMMIT anyway.
 */
export class CallerTransactionRunner implements SqlRunner {
  private readonly runner: MssqlPoolRunner;

  constructor(transaction: MssqlRequestSource) {
    this.runner = new MssqlPoolRunner(transaction);
  }

  query(sql: string, params?: SqlParam[], options?: QueryOptions): Promise<SqlResult> {
    return this.runner.query(sql, params, options);
  }

  transaction<T>(work: (runner: SqlRunner) => Promise<T>): Promise<T> {
    return work(this);
  }
}

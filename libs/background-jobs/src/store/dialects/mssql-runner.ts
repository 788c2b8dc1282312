/**
 * The one seam between the SQL Server dialect and the mssql driver: the dialect hands over SQL
 * text and typed parameters, so tests can record exactly what it would send to a server.
 */
export type MssqlParamType = 'uniqueidentifier' | `nvarchar(${number})` | 'nvarchar(max)' | 'datetime2' | 'int' | 'bit';

export interface SqlParam {
  name: string;
  type: MssqlParamType;
  value: unknown;
}

export interface SqlResult {
  rows: Record<string, unknown>[];
  rowsAffected: number;
}

export interface QueryOptions {
  /** This statement's own request timeout, in place of the pool's (30 s): the driver cancels it after that. */
  requestTimeoutMs?: number;
}

export interface SqlRunner {
  query(sql: string, params?: SqlParam[], options?: QueryOptions): Promise<SqlResult>;
  /** Runs `work` on one connection inside BEGIN TRANSACTION ... COMMIT (ROLLBACK when it throws). */
  transaction<T>(work: (runner: SqlRunner) => Promise<T>): Promise<T>;
}

/** The part of the mssql package used here (it ships no type declarations). */
interface MssqlRequest {
  input(name: string, type: unknown, value: unknown): MssqlRequest;
  query(sql: string): Promise<{ recordset?: Record<string, unknown>[]; rowsAffected: number[] }>;
}
/** What a pool or transaction takes for one request (mssql 12.7+): here only its own timeout. */
interface MssqlRequestOverrides {
  requestTimeout?: number;
}
export interface MssqlRequestSource {
  request(overrides?: MssqlRequestOverrides): MssqlRequest;
}
interface MssqlTransaction extends MssqlRequestSource {
  begin(): Promise<unknown>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}
/** mssql's ConnectionPool, as TypeORM's SqlServerDriver keeps it in `driver.master`. */
export interface MssqlPool extends MssqlRequestSource {
  transaction(): MssqlTransaction;
}
export interface MssqlTypes {
  UniqueIdentifier: unknown;
  NVarChar: (length: number) => unknown;
  MAX: number;
  DateTime2: (scale: number) => unknown;
  Int: unknown;
  Bit: unknown;
}

/**
 * Every parameter gets its column's exact type: mssql would send a JS string as nvarchar(4000)
 * and a Date as datetime, and comparing a datetime2 column with a datetime parameter converts
 * the column, which turns index seeks into scans.
 */
export function toMssqlType(type: MssqlParamType, sql: MssqlTypes = mssqlTypes()): unknown {
  if (type === 'uniqueidentifier') return sql.UniqueIdentifier;
  if (type === 'datetime2') return sql.DateTime2(7);
  if (type === 'int') return sql.Int;
  if (type === 'bit') return sql.Bit;
  const length = /^nvarchar\((\d+|max)\)$/.exec(type)?.[1];
  if (!length) throw new Error(`Unknown SQL Server parameter type "${type}"`);
  return sql.NVarChar(length === 'max' ? sql.MAX : Number(length));
}

let driverTypes: MssqlTypes | undefined;

/**
 * The driver's type factories, loaded on first use (only when SQL Server is the database) and kept:
 * a require() per parameter resolves the module's path again each time, as pg's type parsers did.
 */
function mssqlTypes(): MssqlTypes {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the driver is loaded only when SQL Server is the database
  return (driverTypes ??= require('mssql') as MssqlTypes);
}

export class MssqlPoolRunner implements SqlRunner {
  constructor(private readonly target: MssqlRequestSource) {}

  async query(sql: string, params: SqlParam[] = [], options: QueryOptions = {}): Promise<SqlResult> {
    const request =
      options.requestTimeoutMs === undefined
        ? this.target.request()
        : this.target.request({ requestTimeout: options.requestTimeoutMs });
    for (const p of params) request.input(p.name, toMssqlType(p.type), p.value);
    const result = await request.query(sql);
    return { rows: result.recordset ?? [], rowsAffected: result.rowsAffected.reduce((sum, n) => sum + n, 0) };
  }

  async transaction<T>(work: (runner: SqlRunner) => Promise<T>): Promise<T> {
    const pool = this.target as MssqlPool;
    if (typeof pool.transaction !== 'function') throw new Error('SQL Server transactions do not nest here');
    const transaction = pool.transaction();
    await transaction.begin();
    try {
      const result = await work(new MssqlPoolRunner(transaction));
      await transaction.commit();
      return result;
    } catch (error) {
      await transaction.rollback().catch(() => undefined);
      throw error;
    }
  }
}

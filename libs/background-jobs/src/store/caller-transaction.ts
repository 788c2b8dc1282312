import type { DatabaseProvider } from '../connection/database-provider';

/**
 * The caller's transaction, as TypeORM hands it out: an EntityManager whose query runner holds one
 * connection inside BEGIN ... COMMIT. Only what the stores need is named here, so the store
 * interface shows no TypeORM type; the dialects run their own statements on that connection.
 */
interface TypeOrmTransactionView {
  connection?: { options?: { type?: string }; subscribers?: unknown[] };
  queryRunner?: {
    isTransactionActive?: boolean;
    isReleased?: boolean;
    /** The driver's connection the runner holds (pg client, mysql2 connection, mssql Transaction). */
    databaseConnection?: unknown;
    /** SQLite's runners hold none of their own: every one uses the driver's one handle. */
    driver?: { databaseConnection?: unknown };
  };
}

/** The TypeORM driver types each dialect runs on. */
const DRIVER_TYPES: Record<DatabaseProvider, string[]> = {
  sqlite: ['better-sqlite3'],
  postgres: ['postgres'],
  mysql: ['mysql', 'mariadb'],
  sqlserver: ['mssql'],
};

export class NotInTransactionError extends Error {
  constructor(detail: string) {
    super(
      `enqueue(..., { entityManager }) needs the EntityManager of a running transaction (the manager of ` +
        `dataSource.transaction(async (manager) => ...), or queryRunner.manager after queryRunner.startTransaction()): ${detail}`,
    );
    this.name = 'NotInTransactionError';
  }
}

/**
 * The driver connection of the caller's running transaction on a database of `dialect`; throws
 * NotInTransactionError when `entityManager` has no transaction going on, or is of another kind
 * of database.
 */
export function transactionConnectionOf(entityManager: object, dialect: DatabaseProvider): unknown {
  const view = entityManager as TypeOrmTransactionView;
  const type = view.connection?.options?.type;
  if (type !== undefined && !DRIVER_TYPES[dialect].includes(type))
    throw new NotInTransactionError(`it is a ${type} connection, and the jobs are on ${dialect}`);
  const runner = view.queryRunner;
  if (!runner) throw new NotInTransactionError('this EntityManager has no query runner (it is not a transaction’s)');
  if (runner.isReleased) throw new NotInTransactionError('its query runner was released');
  if (!runner.isTransactionActive) throw new NotInTransactionError('its transaction has not started or is over');
  const connection = runner.databaseConnection ?? runner.driver?.databaseConnection;
  if (!connection) throw new NotInTransactionError('its query runner holds no connection');
  return connection;
}

/** TypeORM's subscriber shape for transaction events: it calls afterTransactionCommit on every subscriber of the DataSource. */
interface TransactionEvent {
  queryRunner: unknown;
}

const callbacks = new WeakMap<object, Array<() => void>>();
const watched = new WeakSet<object>();

/**
 * Calls `callback` once the caller's transaction commits (nothing on rollback), through one
 * subscriber added to the EntityManager's DataSource the first time. For waking this process's
 * worker when an enqueue in a transaction becomes visible, on databases that cannot push it.
 */
export function afterCommit(entityManager: object, callback: () => void): void {
  const view = entityManager as TypeOrmTransactionView;
  const dataSource = view.connection;
  const runner = view.queryRunner;
  if (!dataSource?.subscribers || !runner) return;
  if (!watched.has(dataSource)) {
    watched.add(dataSource);
    const settle = (event: TransactionEvent, run: boolean) => {
      const pending = callbacks.get(event.queryRunner as object);
      if (!pending) return;
      callbacks.delete(event.queryRunner as object);
      if (run) for (const call of pending) call();
    };
    dataSource.subscribers.push({
      afterTransactionCommit: (event: TransactionEvent) => settle(event, true),
      afterTransactionRollback: (event: TransactionEvent) => settle(event, false),
    });
  }
  const pending = callbacks.get(runner);
  if (pending) pending.push(callback);
  else callbacks.set(runner, [callback]);
}

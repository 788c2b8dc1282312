import type { TableNames } from './table-names';

/** The methods that take a statement first (pg and mysql2 `query`/`execute`, better-sqlite3 `prepare`/`exec`, our SqlRunner). */
const STATEMENT_METHODS = new Set(['query', 'execute', 'prepare', 'exec']);
/** The methods that hand out a connection whose statements must be renamed too. */
const CONNECTION_METHODS = new Set(['connect', 'getConnection']);

/**
 * A pool, connection or SqlRunner whose statements are renamed for `names` (see TableNames.sql)
 * on their way out; the object itself with ABP's default names. A PostgreSQL prepared statement's
 * name gets the names' tag, so one process may prepare the same statement for two tables.
 * `transaction(work)` on a SqlRunner hands `work` a renaming transaction.
 */
export function renamingConnection<T extends object>(target: T, names: TableNames): T {
  if (names.isDefault) return target;
  // Each method wrapped once per connection, not at every call.
  const wrapped = new Map<string, { method: unknown; wrapper: unknown }>();
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver) as unknown;
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      const known = wrapped.get(property);
      if (known?.method === value) return known.wrapper;
      const wrapper = wrap(object, property, value as (...args: unknown[]) => unknown, names);
      wrapped.set(property, { method: value, wrapper });
      return wrapper;
    },
  });
}

/** `method` of `object`, renaming its statements (or the connections it hands out). */
function wrap(object: object, property: string, method: (...args: unknown[]) => unknown, names: TableNames): unknown {
  if (STATEMENT_METHODS.has(property))
    return (statement: unknown, ...rest: unknown[]) => method.call(object, renamed(statement, names), ...rest);
  if (CONNECTION_METHODS.has(property))
    return (...args: unknown[]) => {
      if (typeof args[args.length - 1] === 'function')
        throw new Error(`A renaming connection's ${property}() takes no callback`);
      const result = method.apply(object, args);
      return result instanceof Promise
        ? result.then((c: object) => renamingConnection(c, names))
        : renamingConnection(result as object, names);
    };
  if (property === 'transaction' && names.dialect === 'mssql')
    return (work: (tx: object) => unknown, ...rest: unknown[]) =>
      method.call(object, (tx: object) => work(renamingConnection(tx, names)), ...rest);
  return method.bind(object);
}

function renamed(statement: unknown, names: TableNames): unknown {
  if (typeof statement === 'string') return names.sql(statement);
  if (statement && typeof statement === 'object') {
    const config = statement as { text?: unknown; sql?: unknown; name?: unknown };
    const out: Record<string, unknown> = { ...config };
    if (typeof config.text === 'string') out.text = names.sql(config.text);
    if (typeof config.sql === 'string') out.sql = names.sql(config.sql);
    if (typeof config.name === 'string') out.name = `${config.name}${names.tag}`;
    return out;
  }
  return statement;
}

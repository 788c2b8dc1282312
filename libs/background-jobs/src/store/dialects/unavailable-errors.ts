import type { DatabaseProvider } from '../../connection/database-provider';

/**
 * Which driver errors mean "the database could not be reached" (worth waiting and retrying), as
 * opposed to a statement the database refused. One table per driver, read by isUnavailable().
 */
interface UnavailableSigns {
  /** The error's `code`. */
  codes?: Set<string>;
  codePattern?: RegExp;
  /** A server error number, and the property the driver puts it in. */
  numbers?: { property: 'errno' | 'number'; values: Set<number> };
  /** Errors the driver raises without a code. */
  messages?: RegExp;
}

/** What Node's sockets and DNS report when a server is away. */
const SOCKET_CODES = ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH'];

const SIGNS: Record<DatabaseProvider, UnavailableSigns> = {
  // Busy or locked past the busy timeout, or the file cannot be opened, read or written.
  sqlite: { codePattern: /^SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR|FULL|READONLY)/ },
  // Class 08 connection exceptions; 57P01-03 shutdown and cannot-connect-now; 53300 too many connections.
  postgres: {
    codes: new Set([...SOCKET_CODES, '57P01', '57P02', '57P03', '53300']),
    codePattern: /^08/,
    messages:
      /Connection terminated|timeout exceeded when trying to connect|connection error|Client was closed|Query read timeout/i,
  },
  // 1040 too many connections, 1053 shutdown, 1927 killed, 2002/2003/2006/2013 cannot connect / gone / lost.
  mysql: {
    codes: new Set([
      ...SOCKET_CODES,
      'PROTOCOL_CONNECTION_LOST',
      'PROTOCOL_SEQUENCE_TIMEOUT',
      'ER_CON_COUNT_ERROR',
      'ER_SERVER_SHUTDOWN',
    ]),
    numbers: { property: 'errno', values: new Set([1040, 1053, 1927, 2002, 2003, 2006, 2013]) },
    messages:
      /Pool is closed|Connection lost|connect ETIMEDOUT|Can't add new command when connection is in closed state/i,
  },
  // mssql's connection and request codes; server numbers from Microsoft's transient list: -2 timeout,
  // 233/10053/10054/10060 transport, 4060 database unavailable, 40xxx/49xxx Azure throttling and failover.
  sqlserver: {
    codes: new Set([...SOCKET_CODES, 'ESOCKET', 'ETIMEOUT', 'ECONNCLOSED', 'ENOTOPEN', 'ENOCONN', 'EINSTLOOKUP']),
    numbers: {
      property: 'number',
      values: new Set([-2, 233, 4060, 10053, 10054, 10060, 10928, 10929, 40197, 40501, 40613, 49918, 49919, 49920]),
    },
  },
};

type DriverError = { code?: unknown; errno?: unknown; number?: unknown; message?: unknown; originalError?: unknown };

/** Looks at the error and the errors it wraps (mssql keeps the driver's in `originalError`). */
export function isUnavailableError(provider: DatabaseProvider, error: unknown): boolean {
  const signs = SIGNS[provider];
  for (
    let e = error as DriverError | undefined, depth = 0;
    e && typeof e === 'object' && depth < 5;
    e = e.originalError as DriverError, depth++
  ) {
    const code = typeof e.code === 'string' ? e.code : undefined;
    if (code && (signs.codes?.has(code) || signs.codePattern?.test(code))) return true;
    const number = signs.numbers && e[signs.numbers.property];
    if (typeof number === 'number' && signs.numbers!.values.has(number)) return true;
    if (signs.messages && typeof e.message === 'string' && signs.messages.test(e.message)) return true;
  }
  return false;
}

import { isUnavailableError } from './unavailable-errors';

/** The driver error shapes each table must tell apart; the contract suite checks real errors from real servers. */
const error = (fields: Record<string, unknown>, message = 'x') => Object.assign(new Error(message), fields);

describe('isUnavailableError', () => {
  it.each([
    ['sqlite', 'a file locked past the busy timeout', error({ code: 'SQLITE_BUSY' })],
    ['sqlite', 'a file that cannot be opened', error({ code: 'SQLITE_CANTOPEN' })],
    ['postgres', 'a refused connection', error({ code: 'ECONNREFUSED' })],
    ['postgres', 'a class 08 connection failure', error({ code: '08006' })],
    ['postgres', 'an administrator shutdown', error({ code: '57P01' })],
    ['postgres', 'a connection ended under a query', new Error('Connection terminated unexpectedly')],
    ['mysql', 'a lost connection (2013)', error({ code: 'PROTOCOL_CONNECTION_LOST', errno: 2013 })],
    ['mysql', 'too many connections (1040)', error({ code: 'ER_CON_COUNT_ERROR', errno: 1040 })],
    ['mysql', 'a closed pool', new Error('Pool is closed.')],
    [
      'sqlserver',
      "tedious's cause under mssql's wrapper",
      error({ code: 'EREQUEST', originalError: error({ code: 'ECONNRESET' }) }),
    ],
  ] as const)('%s: true for %s', (provider, _what, e) => expect(isUnavailableError(provider, e)).toBe(true));

  it.each([
    ['sqlite', 'a constraint violation', error({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' })],
    ['postgres', 'a syntax error', error({ code: '42601' })],
    ['postgres', 'a unique violation', error({ code: '23505' })],
    ['mysql', 'a duplicate key (1062)', error({ code: 'ER_DUP_ENTRY', errno: 1062 })],
    ['mysql', "SQL Server's timeout number, which means nothing to MySQL", error({ number: -2 })],
    ['sqlserver', 'a duplicate key (2627)', error({ code: 'EREQUEST', number: 2627 })],
    ['sqlserver', 'undefined', undefined],
  ] as const)('%s: false for %s', (provider, _what, e) => expect(isUnavailableError(provider, e)).toBe(false));
});

import { MssqlPoolRunner, MssqlTypes, toMssqlType } from './mssql-runner';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- mssql ships no type declarations to import
const sql = require('mssql') as MssqlTypes;

describe('toMssqlType', () => {
  it.each([
    ['uniqueidentifier', sql.UniqueIdentifier],
    ['int', sql.Int],
    ['bit', sql.Bit],
  ] as const)('maps %s to the driver type itself', (type, expected) => {
    expect(toMssqlType(type)).toBe(expected);
  });

  it('maps datetime2 to DateTime2 with scale 7, never the datetime a bare Date would get', () => {
    expect(toMssqlType('datetime2')).toEqual({ type: sql.DateTime2, scale: 7 });
  });

  it('maps nvarchar(n) and nvarchar(max) to NVarChar of that length', () => {
    expect(toMssqlType('nvarchar(40)')).toEqual({ type: sql.NVarChar, length: 40 });
    expect(toMssqlType('nvarchar(max)')).toEqual({ type: sql.NVarChar, length: sql.MAX });
  });

  it('refuses a type it does not know', () => {
    expect(() => toMssqlType('varchar(10)' as never)).toThrow('Unknown SQL Server parameter type "varchar(10)"');
  });
});

describe('MssqlPoolRunner', () => {
  /** Stands in for mssql's pool: records what a Request is given. */
  function fakePool(result = { recordset: [{ n: 1 }], rowsAffected: [2, 3] }) {
    const log: unknown[] = [];
    const request = (overrides?: unknown) => {
      if (overrides !== undefined) log.push(['request', overrides]);
      const r = {
        input: (name: string, type: unknown, value: unknown) => (log.push(['input', name, type, value]), r),
        query: async (text: string) => (log.push(['query', text]), result),
      };
      return r;
    };
    const pool = {
      request,
      transaction: () => ({
        begin: async () => log.push(['begin']),
        commit: async () => void log.push(['commit']),
        rollback: async () => void log.push(['rollback']),
        request,
      }),
    };
    return { pool, log };
  }

  it('binds each parameter with its mapped type and adds up rowsAffected', async () => {
    const { pool, log } = fakePool();
    const at = new Date('2030-01-01T00:00:00Z');
    const result = await new MssqlPoolRunner(pool).query('SELECT @a, @b', [
      { name: 'a', type: 'datetime2', value: at },
      { name: 'b', type: 'nvarchar(40)', value: 'x' },
    ]);
    expect(result).toEqual({ rows: [{ n: 1 }], rowsAffected: 5 });
    expect(log).toEqual([
      ['input', 'a', { type: sql.DateTime2, scale: 7 }, at],
      ['input', 'b', { type: sql.NVarChar, length: 40 }, 'x'],
      ['query', 'SELECT @a, @b'],
    ]);
  });

  it("gives a statement its own request timeout when asked, and otherwise leaves the pool's", async () => {
    const { pool, log } = fakePool();
    const runner = new MssqlPoolRunner(pool);
    await runner.query('MIGRATE', [], { requestTimeoutMs: 600_000 });
    await runner.query('CLAIM');
    expect(log).toEqual([
      ['request', { requestTimeout: 600_000 }],
      ['query', 'MIGRATE'],
      ['query', 'CLAIM'],
    ]);
  });

  it('commits a transaction that succeeds and rolls back one that throws', async () => {
    const { pool, log } = fakePool();
    const runner = new MssqlPoolRunner(pool);
    await runner.transaction((tx) => tx.query('A'));
    await expect(runner.transaction(async () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    expect(log).toEqual([['begin'], ['query', 'A'], ['commit'], ['begin'], ['rollback']]);
  });
});

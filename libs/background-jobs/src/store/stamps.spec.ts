import { isLeaseStamp } from './background-job-record';
import { newConcurrencyStamp, newLeaseToken, newSequentialGuid } from './stamps';

describe('stamps', () => {
  it("makes ConcurrencyStamps as ABP does: a Guid in 'N' format", () => {
    expect(newConcurrencyStamp()).toMatch(/^[0-9a-f]{32}$/);
    expect(isLeaseStamp(newConcurrencyStamp())).toBe(false);
  });

  it('makes lease tokens that fit the 40-character column and are told apart from stamps', () => {
    const token = newLeaseToken();
    expect(token.length).toBeLessThanOrEqual(40);
    expect(isLeaseStamp(token)).toBe(true);
  });

  it('makes version-7 Guids that sort by creation time and never repeat', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => newSequentialGuid(1_700_000_000_000 + i));
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(Array.from({ length: 2000 }, () => newSequentialGuid(1)))).toHaveProperty('size', 2000);
  });

  it('keeps increasing within one millisecond, and starts each millisecond at a random point', () => {
    const ids = Array.from({ length: 20_000 }, () => newSequentialGuid(1_800_000_000_000));
    for (let i = 1; i < ids.length; i++) expect(ids[i] > ids[i - 1]).toBe(true);
    expect(ids[0].slice(0, 15)).toBe('01a3185c-5000-7');
    const firsts = new Set([1, 2, 3, 4, 5].map((ms) => newSequentialGuid(1_800_000_000_000 + ms).slice(15, 23)));
    expect(firsts.size).toBe(5);
  });

  describe("ABP's SequentialAtEnd layout, for SQL Server", () => {
    /**
     * The bytes of a Guid as .NET and SQL Server store them (the first three groups of the text
     * little-endian), in the order SQL Server compares uniqueidentifiers: 10-15, 8-9, 6-7, 4-5, 0-3.
     */
    function sqlServerOrderKey(id: string): string {
      const hex = id.replace(/-/g, '');
      const bytes = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15].map((i) => hex.slice(2 * i, 2 * i + 2));
      return [10, 11, 12, 13, 14, 15, 8, 9, 6, 7, 4, 5, 0, 1, 2, 3].map((i) => bytes[i]).join('');
    }
    const inSqlServerOrder = (ids: string[]) =>
      [...ids].sort((a, b) => (sqlServerOrderKey(a) < sqlServerOrderKey(b) ? -1 : 1));

    it("ascend in SQL Server's uniqueidentifier order, across milliseconds and within one", () => {
      const start = 1_800_000_000_000;
      const ids = [
        ...Array.from({ length: 2000 }, (_, i) => newSequentialGuid(start + i, 'sequentialAtEnd')),
        ...Array.from({ length: 20_000 }, () => newSequentialGuid(start + 5000, 'sequentialAtEnd')),
        ...Array.from({ length: 100 }, (_, i) => newSequentialGuid(start + 5001 + i * 65_537, 'sequentialAtEnd')),
      ];
      expect(new Set(ids).size).toBe(ids.length);
      expect(inSqlServerOrder(ids)).toEqual(ids);
    });

    it('would not ascend as UUIDv7, whose time SQL Server compares last', () => {
      const ids = Array.from({ length: 100 }, (_, i) => newSequentialGuid(1_800_000_000_000 + i * 1000));
      expect(inSqlServerOrder(ids)).not.toEqual(ids);
    });

    it("keep ABP's time in the last six bytes: DateTime.UtcNow.Ticks / 10000, big-endian", () => {
      // 2030-06-15T12:00:00Z is 640,433,520,000,000,000 .NET ticks (C#: new DateTime(2030, 6, 15, 12, 0, 0).Ticks).
      const id = newSequentialGuid(Date.parse('2030-06-15T12:00:00Z'), 'sequentialAtEnd');
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(parseInt(id.slice(24), 16)).toBe(64_043_352_000_000);
    });
  });
});

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
});

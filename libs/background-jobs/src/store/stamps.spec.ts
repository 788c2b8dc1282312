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
});

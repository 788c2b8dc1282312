import { fromUtcText, toUtcText } from './sql-time';

describe('sql-time', () => {
  it('writes UTC with milliseconds and reads it back unchanged', () => {
    const date = new Date('2024-02-29T23:59:59.007Z');
    expect(toUtcText(date)).toBe('2024-02-29 23:59:59.007');
    expect(fromUtcText(toUtcText(date))).toEqual(date);
  });

  it("reads EF Core's forms: 7 fractional digits (cut to milliseconds), short fractions, none, and a T", () => {
    expect(fromUtcText('2024-05-01 10:03:00.1239999')).toEqual(new Date('2024-05-01T10:03:00.123Z'));
    expect(fromUtcText('2024-05-01 10:03:00.5')).toEqual(new Date('2024-05-01T10:03:00.500Z'));
    expect(fromUtcText('2024-05-01 10:03:00')).toEqual(new Date('2024-05-01T10:03:00.000Z'));
    expect(fromUtcText('2024-05-01T10:03:00.25')).toEqual(new Date('2024-05-01T10:03:00.250Z'));
  });

  it("reads PostgreSQL's microseconds and every fraction length exactly", () => {
    expect(fromUtcText('2030-06-15 12:00:00.123456')).toEqual(new Date('2030-06-15T12:00:00.123Z'));
    for (let ms = 0; ms < 1000; ms++) {
      const text = `2030-06-15 12:00:00.${String(ms).padStart(3, '0')}`;
      expect(fromUtcText(text)?.getTime()).toBe(Date.UTC(2030, 5, 15, 12, 0, 0, ms));
      expect(fromUtcText(text.replace(/\.?0+$/, ''))?.getTime()).toBe(Date.UTC(2030, 5, 15, 12, 0, 0, ms));
    }
  });

  it('reads an explicit offset at that offset', () => {
    expect(fromUtcText('2024-05-01 12:03:00.000+02:00')).toEqual(new Date('2024-05-01T10:03:00.000Z'));
    expect(fromUtcText('2024-05-01 07:33:00-0230')).toEqual(new Date('2024-05-01T10:03:00.000Z'));
    expect(fromUtcText('2024-05-01 10:03:00Z')).toEqual(new Date('2024-05-01T10:03:00.000Z'));
  });

  it('passes Dates and nulls through', () => {
    const date = new Date();
    expect(fromUtcText(date)).toBe(date);
    expect(fromUtcText(null)).toBeNull();
    expect(fromUtcText(undefined)).toBeNull();
  });

  it('refuses text that is not a time, naming it', () => {
    expect(() => fromUtcText('yesterday')).toThrow('Unreadable time value "yesterday"');
    expect(() => fromUtcText('2024-13-45 10:00:00')).toThrow('Unreadable time value');
    expect(() => fromUtcText('2024-05-01 10:03:00 trailing')).toThrow('Unreadable time value');
    expect(() => fromUtcText('2024-05-01 10:03:00.')).toThrow('Unreadable time value');
  });
});

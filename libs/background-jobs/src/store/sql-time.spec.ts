import { fromUtcText, readUtcTime, toUtcText } from './sql-time';

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

  it("reads the years 1 and 9999 (.NET's DateTime.MinValue and MaxValue) as written, not year 1 as 1901", () => {
    expect(fromUtcText('0001-01-01 00:00:00')?.toISOString()).toBe('0001-01-01T00:00:00.000Z');
    expect(fromUtcText('0099-12-31 23:59:59.5')?.toISOString()).toBe('0099-12-31T23:59:59.500Z');
    expect(fromUtcText('9999-12-31 23:59:59.9999999')?.toISOString()).toBe('9999-12-31T23:59:59.999Z');
  });

  it('readUtcTime gives undefined, never an error or an Invalid Date, for what is not a time', () => {
    for (const value of [
      '2030-02-30 12:00:00',
      '2030-02-29 12:00:00+01:00',
      'infinity',
      '-infinity',
      '0000-00-00 00:00:00.000000',
      '0001-01-01 00:00:00 BC',
      '10000-01-01 00:00:00',
      'yesterday',
      '',
      1700000000,
      null,
      undefined,
      Buffer.from('x'),
      new Date(NaN),
    ]) {
      expect(readUtcTime(value)).toBeUndefined();
    }
    expect(readUtcTime('2024-05-01 10:03:00.123456')).toEqual(new Date('2024-05-01T10:03:00.123Z'));
    expect(readUtcTime('2024-05-01 12:03:00+02:00')).toEqual(new Date('2024-05-01T10:03:00.000Z'));
    const date = new Date();
    expect(readUtcTime(date)).toBe(date);
  });
});

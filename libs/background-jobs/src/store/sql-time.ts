/** 'YYYY-MM-DD HH:MM:SS.mmm' in UTC: the text form every dialect here writes, EF Core's column format. */
export function toUtcText(date: Date): string {
  return date.toISOString().replace('T', ' ').replace('Z', '');
}

const UTC_TEXT = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d+))?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * Reads a UTC time written as text (ours, or EF Core's with up to 7 fractional digits, cut to
 * milliseconds). Text without an offset is UTC; one with an offset is read at that offset.
 */
export function fromUtcText(value: string | Date | null | undefined): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  return fromPlainUtcText(value) ?? fromAnyUtcText(value);
}

/**
 * A time as a driver hands it over (a Date, or UTC text), or undefined when it is none: text that
 * is not a time, PostgreSQL's 'infinity', MySQL's zero date, a number SQLite holds. Never throws,
 * so one unreadable row cannot fail the claim that read it.
 */
export function readUtcTime(value: unknown): Date | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value;
  if (typeof value !== 'string') return undefined;
  const plain = fromPlainUtcText(value);
  if (plain !== undefined) return plain;
  const date = anyUtcText(value);
  return date && !Number.isNaN(date.getTime()) ? date : undefined;
}

const DIGIT_0 = 48;

/**
 * The common case without a regular expression: exactly 'YYYY-MM-DD HH:MM:SS' with an optional
 * fraction of up to 7 digits and no offset, as PostgreSQL and EF Core write it (a claim reads two
 * per row, so it is on the hot path: no closure, no array, one Date). Anything else: undefined.
 */
function fromPlainUtcText(value: string): Date | undefined {
  const n = value.length;
  if (
    n < 19 ||
    n > 27 ||
    value[4] !== '-' ||
    value[7] !== '-' ||
    (value[10] !== ' ' && value[10] !== 'T') ||
    value[13] !== ':' ||
    value[16] !== ':'
  ) {
    return undefined;
  }
  if (n > 19 && (value[19] !== '.' || n === 20)) return undefined;
  const fractionDigits = n > 20 ? n - 20 : 0;
  const fraction = fractionDigits > 0 ? digitsOf(value, 20, n) : 0;
  const millis =
    fractionDigits <= 3 ? fraction * 10 ** (3 - fractionDigits) : Math.floor(fraction / 10 ** (fractionDigits - 3));
  const month = digitsOf(value, 5, 7);
  const day = digitsOf(value, 8, 10);
  const hours = digitsOf(value, 11, 13);
  const minutes = digitsOf(value, 14, 16);
  const seconds = digitsOf(value, 17, 19);
  const time = utc(digitsOf(value, 0, 4), month - 1, day, hours, minutes, seconds, millis);
  // NaN (a non-digit) or out of range (month 13, 25:00): the general parser decides and explains.
  if (
    Number.isNaN(time) ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > 31 ||
    hours > 23 ||
    minutes > 59 ||
    seconds > 59
  ) {
    return undefined;
  }
  const date = new Date(time);
  return date.getUTCDate() === day ? date : undefined;
}

/** The decimal number written by value[start..end), or NaN if any of it is not a digit. */
function digitsOf(value: string, start: number, end: number): number {
  let result = 0;
  for (let i = start; i < end; i++) {
    const d = value.charCodeAt(i) - DIGIT_0;
    if (d < 0 || d > 9) return NaN;
    result = result * 10 + d;
  }
  return result;
}

/** Date.UTC reads years 0-99 as 1900-1999; ABP's DateTime.MinValue is year 1. */
function utc(
  year: number,
  month: number,
  day: number,
  hours: number,
  minutes: number,
  seconds: number,
  millis: number,
): number {
  const time = Date.UTC(year, month, day, hours, minutes, seconds, millis);
  return year >= 100 || Number.isNaN(time) ? time : new Date(time).setUTCFullYear(year);
}

function fromAnyUtcText(value: string): Date {
  const date = anyUtcText(value);
  if (!date || Number.isNaN(date.getTime())) throw new Error(`Unreadable time value "${value}"`);
  return date;
}

function anyUtcText(value: string): Date | null {
  const match = UTC_TEXT.exec(value.trim());
  if (!match || !isCalendarDay(match[1])) return null;
  const millis = (match[3] ?? '').padEnd(3, '0').slice(0, 3);
  return new Date(`${match[1]}T${match[2]}.${millis}${offset(match[4])}`);
}

/** 'YYYY-MM-DD' names a day that exists: Date would read February 30 as March 2. */
function isCalendarDay(text: string): boolean {
  const [year, month, day] = text.split('-').map(Number);
  const date = new Date(utc(year, month - 1, day, 0, 0, 0, 0));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function offset(text: string | undefined): string {
  if (!text || text.toUpperCase() === 'Z') return 'Z';
  const [, sign, hours, minutes] = /^([+-])(\d{2}):?(\d{2})?$/.exec(text)!;
  return `${sign}${hours}:${minutes ?? '00'}`;
}

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
  const match = UTC_TEXT.exec(value.trim());
  const millis = (match?.[3] ?? '').padEnd(3, '0').slice(0, 3);
  const date = match && new Date(`${match[1]}T${match[2]}.${millis}${offset(match[4])}`);
  if (!date || Number.isNaN(date.getTime())) throw new Error(`Unreadable time value "${value}"`);
  return date;
}

function offset(text: string | undefined): string {
  if (!text || text.toUpperCase() === 'Z') return 'Z';
  const [, sign, hours, minutes] = /^([+-])(\d{2}):?(\d{2})?$/.exec(text)!;
  return `${sign}${hours}:${minutes ?? '00'}`;
}

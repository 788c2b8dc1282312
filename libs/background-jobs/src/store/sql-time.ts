/** 'YYYY-MM-DD HH:MM:SS.mmm' in UTC: the text form every dialect here writes, EF Core's column format. */
export function toUtcText(date: Date): string {
  return date.toISOString().replace('T', ' ').replace('Z', '');
}

/** Reads a UTC time written as text (ours, or EF Core's with up to 7 fractional digits). */
export function fromUtcText(value: string | Date | null | undefined): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  const match = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d+))?/.exec(value);
  if (!match) throw new Error(`Unreadable time value "${value}"`);
  const millis = (match[3] ?? '').padEnd(3, '0').slice(0, 3);
  return new Date(`${match[1]}T${match[2]}.${millis}Z`);
}

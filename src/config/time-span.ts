const TIME_SPAN = /^(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?$/;
const SECONDS = /^\d+(?:\.\d+)?$/;

/**
 * A duration setting in seconds: a plain number of seconds (as DefaultTimeout takes them), or
 * .NET's TimeSpan text as an ABP appsettings.json holds it (`7.00:00:00`, `01:30:00`); empty text
 * is null. Anything else throws, saying which forms are read.
 */
export function parseDurationSeconds(value: unknown): number | null {
  if (typeof value === 'number' && value >= 0 && Number.isFinite(value)) return value;
  const text = typeof value === 'string' ? value.trim() : undefined;
  if (text === '') return null;
  if (text !== undefined && SECONDS.test(text)) return Number(text);
  const parts = text === undefined ? null : TIME_SPAN.exec(text);
  if (parts) {
    const [, days = '0', hours, minutes, seconds = '0', fraction = '0'] = parts;
    if (Number(hours) < 24 && Number(minutes) < 60 && Number(seconds) < 60) {
      return (
        Number(days) * 86_400 + Number(hours) * 3600 + Number(minutes) * 60 + Number(seconds) + Number(`0.${fraction}`)
      );
    }
  }
  throw new Error('must be a number of seconds (604800), a .NET TimeSpan ([d.]hh:mm[:ss], e.g. 7.00:00:00), or empty');
}

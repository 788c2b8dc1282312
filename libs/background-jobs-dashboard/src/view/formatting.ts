import { SMALL_STATE_ROWS } from '@app/background-jobs/store/state-counts';

/**
 * In a table too big to count (`estimated` stats), the service still counts a state of at most
 * this many rows exactly; a bigger state's counts, its per-job-name ones too, are estimates.
 */
export const EXACT_STATE_ROWS = SMALL_STATE_ROWS;

const compact = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 });
const whole = new Intl.NumberFormat('en');

/** Whether a state's counts may be estimates: the stats say some are, and this state is past the exactly counted size. */
export function isEstimate(stateTotal: number | null, statsEstimated: boolean): boolean {
  return statsEstimated && stateTotal !== null && stateTotal > EXACT_STATE_ROWS;
}

/** "1,234", or "~1.2M" for a count the database estimated (the page marks every estimate). */
export function formatCount(count: number, estimate: boolean): string {
  return estimate ? `~${compact.format(count)}` : whole.format(count);
}

/** The first `max` characters of `text` on one line: runs of white space (newlines too) as one space. */
export function oneLine(text: string, max = 160): string {
  const flat = text.slice(0, max * 4).replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** JSON indented for reading; text that is not JSON as it is. */
export function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

export interface CutText {
  text: string;
  cut: boolean;
  /** The whole value's length in characters, for reading ("1,048,576"). */
  length: string;
}

/** At most `max` characters of `text`, saying whether it was cut. */
export function cutText(text: string, max: number): CutText {
  return {
    text: text.length > max ? text.slice(0, max) : text,
    cut: text.length > max,
    length: whole.format(text.length),
  };
}

/** "2026-12-01 16:07:53 UTC" from an ISO time; text that is no time is kept. */
export function formatTime(iso: string | null): string {
  if (iso === null) return '';
  const time = new Date(iso);
  if (Number.isNaN(time.getTime())) return iso;
  return `${time.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** "in 5 min", "3 h ago", "now": how far a time is from `now`. */
export function relativeTime(iso: string | null, now: Date): string {
  if (iso === null) return '';
  const ms = new Date(iso).getTime() - now.getTime();
  if (Number.isNaN(ms)) return '';
  const seconds = Math.round(Math.abs(ms) / 1000);
  if (seconds < 5) return 'now';
  const [amount, unit] =
    seconds < 120
      ? [seconds, 's']
      : seconds < 7200
        ? [Math.round(seconds / 60), 'min']
        : seconds < 172_800
          ? [Math.round(seconds / 3600), 'h']
          : [Math.round(seconds / 86_400), 'd'];
  return ms > 0 ? `in ${amount} ${unit}` : `${amount} ${unit} ago`;
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${whole.format(count)} ${count === 1 ? one : many}`;
}

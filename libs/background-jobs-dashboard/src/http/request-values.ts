import { JOB_STATES, JobState } from '@app/background-jobs/admin/background-jobs-admin.types';

/** A query or form field given once as non-empty text; undefined when absent or empty. Kept as sent: job names match byte for byte. */
export function textValue(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A form field sent once or more (checkboxes), as a list of texts. */
export function textValues(value: unknown): string[] {
  const values: unknown[] = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return values.filter((v): v is string => typeof v === 'string');
}

export function isJobState(value: unknown): value is JobState {
  return typeof value === 'string' && (JOB_STATES as readonly string[]).includes(value);
}

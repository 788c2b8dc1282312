import type { JobState } from '@app/background-jobs/admin/background-jobs-admin.types';

/** Each state's name on the pages, and what it means in a few words. */
export const STATE_LABELS: Record<JobState, { label: string; about: string }> = {
  waiting: { label: 'Waiting', about: 'due now, not tried yet' },
  scheduled: { label: 'Scheduled', about: 'not tried yet, due later' },
  retrying: { label: 'Retrying', about: 'failed, waiting for the next try' },
  processing: { label: 'Processing', about: 'held by a worker now' },
  abandoned: { label: 'Abandoned', about: 'failed for good; requeue to try again' },
  succeeded: { label: 'Succeeded', about: 'kept after success' },
};

import type { CancelOutcome } from '@app/background-jobs/cancellation/cancel-job';

/**
 * The part of IBackgroundJobManager the dashboard's API calls (cancel), for its unit tests: answers
 * with the outcome set per id ('not-found' for the rest) and notes each call.
 */
export class FakeJobManager {
  readonly outcomes = new Map<string, CancelOutcome>();
  readonly cancels: Array<{ id: string; by?: string }> = [];

  async cancel(id: string, options: { by?: string } = {}): Promise<CancelOutcome> {
    this.cancels.push({ id, by: options.by });
    return this.outcomes.get(id.toLowerCase()) ?? 'not-found';
  }
}

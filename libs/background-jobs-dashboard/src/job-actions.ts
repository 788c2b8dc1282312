import { Logger } from '@nestjs/common';
import type {
  ActionResult,
  Actor,
  BackgroundJobsAdmin,
  JobSelection,
  JobState,
} from '@app/background-jobs/admin/background-jobs-admin.types';
import type { IBackgroundJobManager } from '@app/background-jobs/background-job-manager';
import type { CancelOutcome } from '@app/background-jobs/cancellation/cancel-job';

export type JobAction = 'requeue' | 'run-now' | 'delete';
export const JOB_ACTIONS: readonly JobAction[] = ['requeue', 'run-now', 'delete'];

/** The actions that fit a row's state (the service refuses the others, and any row a worker holds). */
export const ACTIONS_BY_STATE: Record<JobState, JobAction[]> = {
  waiting: ['delete'],
  scheduled: ['run-now', 'delete'],
  retrying: ['requeue', 'delete'],
  processing: [],
  abandoned: ['requeue', 'delete'],
  succeeded: ['delete'],
};

/** The actions a whole selection by state ("all abandoned of job name X") can take. */
export const SELECTION_ACTIONS: readonly JobAction[] = ['requeue', 'delete'];

export const ACTION_LABELS: Record<JobAction, { button: string; done: string; verb: string }> = {
  requeue: { button: 'Requeue', done: 'requeued', verb: 'requeue' },
  'run-now': { button: 'Run now', done: 'made due now', verb: 'run now' },
  delete: { button: 'Delete', done: 'deleted', verb: 'delete' },
};

export function isJobAction(value: unknown): value is JobAction {
  return typeof value === 'string' && (JOB_ACTIONS as readonly string[]).includes(value);
}

/** Runs one action on ids through the management service. */
export function performOnIds(
  admin: BackgroundJobsAdmin,
  action: JobAction,
  ids: string[],
  actor: Actor,
): Promise<ActionResult> {
  switch (action) {
    case 'requeue':
      return admin.requeue(ids, actor);
    case 'run-now':
      return admin.runNow(ids, actor);
    case 'delete':
      return admin.delete(ids, actor);
  }
}

/** Runs one action on every row of a selection; run-now has no selection form in the service. */
export function performOnSelection(
  admin: BackgroundJobsAdmin,
  action: Exclude<JobAction, 'run-now'>,
  selection: JobSelection,
  actor: Actor,
): Promise<ActionResult> {
  return action === 'requeue' ? admin.requeueWhere(selection, actor) : admin.deleteWhere(selection, actor);
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Job ids are Guids; anything else names no job (and never reaches a query). */
export function isJobId(value: unknown): boolean {
  return typeof value === 'string' && GUID.test(value);
}

/** The states a job can be cancelled in (IBackgroundJobManager.cancel): not once it has finished. */
export const CANCELLABLE_STATES: readonly JobState[] = ['waiting', 'scheduled', 'retrying', 'processing'];

const cancelLogger = new Logger('Dashboard');

/** Cancels a job through the job manager, as `actor` (its CancelledBy), and logs who cancelled which job and how it went. */
export async function performCancel(jobs: IBackgroundJobManager, id: string, actor: Actor): Promise<CancelOutcome> {
  const outcome = await jobs.cancel(id, { by: actor.name });
  cancelLogger.log(`${actor.name} cancel job ${id.toLowerCase()}: ${outcome}`);
  return outcome;
}

import { Logger } from '@nestjs/common';
import type { Actor } from '@app/background-jobs/admin/background-jobs-admin.types';
import type { RecurringJobs } from '@app/background-jobs/schedules/recurring-jobs.service';

export type ScheduleAction = 'pause' | 'resume' | 'trigger';
export const SCHEDULE_ACTIONS: readonly ScheduleAction[] = ['pause', 'resume', 'trigger'];

export const SCHEDULE_ACTION_LABELS: Record<ScheduleAction, { button: string; done: string }> = {
  pause: { button: 'Pause', done: 'paused' },
  resume: { button: 'Resume', done: 'resumed' },
  trigger: { button: 'Trigger now', done: 'triggered' },
};

export function isScheduleAction(value: unknown): value is ScheduleAction {
  return typeof value === 'string' && (SCHEDULE_ACTIONS as readonly string[]).includes(value);
}

/** What a schedule action did: trigger names the job it enqueued. */
export interface ScheduleActionResult {
  name: string;
  action: ScheduleAction;
  jobId?: string;
}

const logger = new Logger('Dashboard');

/**
 * Pauses, resumes or triggers a schedule through the RecurringJobs service (the dashboard writes
 * no SQL), and writes one log line: who, what, which schedule (and the job a trigger enqueued).
 * Throws ScheduleNotFoundError for a name this application has no schedule of.
 */
export async function performOnSchedule(
  schedules: RecurringJobs,
  action: ScheduleAction,
  name: string,
  actor: Actor,
): Promise<ScheduleActionResult> {
  let jobId: string | undefined;
  if (action === 'pause') await schedules.pause(name);
  else if (action === 'resume') await schedules.resume(name);
  else jobId = await schedules.trigger(name);
  logger.log(
    `${actor.name} ${SCHEDULE_ACTION_LABELS[action].done} schedule ${JSON.stringify(name)}${jobId ? `: job ${jobId}` : ''}`,
  );
  return jobId === undefined ? { name, action } : { name, action, jobId };
}

import type { ScheduleView } from '@app/background-jobs/schedules/recurring-jobs.service';
import { isScheduleAction, SCHEDULE_ACTION_LABELS, ScheduleAction } from '../schedule-actions';
import type { Alert } from './dashboard-renderer';
import { formatTime, relativeTime } from './formatting';
import type { DashboardLinks } from './page-models';

/** The Schedules page: each recurring job with its cron, zone, job, next and last run, and the forms that fit it. */
export function schedulesModel(schedules: ScheduleView[], links: DashboardLinks, now: Date, readOnly: boolean) {
  return {
    title: 'Schedules',
    tab: 'schedules',
    schedules: schedules.map((schedule) => {
      const actions: ScheduleAction[] = readOnly ? [] : [schedule.paused ? 'resume' : 'pause', 'trigger'];
      return {
        name: schedule.name,
        cron: schedule.cron,
        timeZone: schedule.timeZone ?? 'UTC',
        jobName: schedule.jobName,
        source: schedule.source === 'code' ? '@RecurringJob' : 'run time',
        paused: schedule.paused,
        nextRun:
          schedule.nextRunTime === null ? (schedule.paused ? 'paused' : 'never') : formatTime(schedule.nextRunTime),
        nextRunRelative: schedule.nextRunTime === null ? undefined : relativeTime(schedule.nextRunTime, now),
        lastRun: schedule.lastRunTime === null ? 'never' : formatTime(schedule.lastRunTime),
        lastRunRelative: schedule.lastRunTime === null ? undefined : relativeTime(schedule.lastRunTime, now),
        lastJobHref: schedule.lastJobId === null ? undefined : links.job(schedule.lastJobId),
        actions: actions.map((action) => ({
          action,
          label: SCHEDULE_ACTION_LABELS[action].button,
          href: links.scheduleAction(schedule.name, action),
        })),
      };
    }),
  };
}

/** What a schedule form did, carried to the Schedules page in its query (Post/Redirect/Get). */
export function scheduleOutcomeQuery(action: ScheduleAction, name: string, jobId?: string): Record<string, string> {
  return { scheduleAction: action, schedule: name, ...(jobId ? { jobId } : {}) };
}

/** The message the Schedules page shows after a form, or none when the query carries no outcome. */
export function scheduleOutcomeAlerts(query: Record<string, unknown>): Alert[] {
  const { scheduleAction: action, schedule: name, jobId } = query;
  if (typeof name !== 'string' || !isScheduleAction(action)) return [];
  const done = SCHEDULE_ACTION_LABELS[action].done;
  const job = action === 'trigger' && typeof jobId === 'string' ? `: job ${jobId} is enqueued` : '';
  return [{ type: 'success', text: `Schedule "${name}" ${done}${job}.` }];
}

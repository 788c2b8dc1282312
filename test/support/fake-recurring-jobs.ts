import type { ScheduleView } from '@app/background-jobs/schedules/recurring-jobs.service';
import { ScheduleNotFoundError } from '@app/background-jobs/schedules/schedule-errors';

/**
 * The part of RecurringJobs the dashboard calls (list, pause, resume, trigger), for its unit tests
 * only: schedules in an array, each call noted. The real service is tested in the contract suite
 * and through the built apps.
 */
export class FakeRecurringJobs {
  schedules: ScheduleView[] = [];
  readonly calls: Array<{ action: string; name: string }> = [];
  private triggered = 0;

  async list(): Promise<ScheduleView[]> {
    return this.schedules;
  }

  async pause(name: string): Promise<void> {
    this.find('pause', name).paused = true;
  }

  async resume(name: string): Promise<void> {
    this.find('resume', name).paused = false;
  }

  async trigger(name: string): Promise<string> {
    const schedule = this.find('trigger', name);
    schedule.lastJobId = `0190a0b0-0000-7000-8000-${String(++this.triggered).padStart(12, '0')}`;
    return schedule.lastJobId;
  }

  private find(action: string, name: string): ScheduleView {
    this.calls.push({ action, name });
    const schedule = this.schedules.find((s) => s.name === name);
    if (!schedule) throw new ScheduleNotFoundError(name);
    return schedule;
  }
}

export function fakeSchedule(fields: Partial<ScheduleView> = {}): ScheduleView {
  return {
    name: 'nightly-report',
    jobName: 'MyReportJobArgs',
    args: '{}',
    cron: '0 3 * * *',
    timeZone: 'Europe/Berlin',
    priority: 15,
    paused: false,
    source: 'runtime',
    nextRunTime: '2030-01-02T02:00:00.000Z',
    lastRunTime: null,
    lastJobId: null,
    ...fields,
  };
}

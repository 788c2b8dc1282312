import { fakeSchedule } from '../../../../test/support/fake-recurring-jobs';
import { DashboardLinks } from './page-models';
import { scheduleOutcomeAlerts, schedulesModel } from './schedules-model';

describe('schedules page model', () => {
  const links = new DashboardLinks('/jobs');
  const now = new Date('2030-01-01T00:00:00.000Z');

  it('shows UTC for no zone, "paused" for no next run while paused, "never" for no last run, and the forms that fit', () => {
    const [running, paused] = schedulesModel(
      [fakeSchedule({ timeZone: null }), fakeSchedule({ name: 'b c/d', paused: true, nextRunTime: null })],
      links,
      now,
      false,
    ).schedules;
    expect(running).toMatchObject({
      timeZone: 'UTC',
      nextRun: '2030-01-02 02:00:00 UTC',
      lastRun: 'never',
      paused: false,
    });
    expect(running.actions.map((a) => a.action)).toEqual(['pause', 'trigger']);
    expect(paused).toMatchObject({ nextRun: 'paused', paused: true });
    expect(paused.actions.map((a) => a.href)).toEqual([
      '/jobs/schedules/b%20c%2Fd/resume',
      '/jobs/schedules/b%20c%2Fd/trigger',
    ]);
    expect(schedulesModel([fakeSchedule()], links, now, true).schedules[0].actions).toEqual([]);
  });

  it('says what a form did, from the query it redirected with', () => {
    expect(scheduleOutcomeAlerts({ scheduleAction: 'trigger', schedule: 'n', jobId: 'j1' })).toEqual([
      { type: 'success', text: 'Schedule "n" triggered: job j1 is enqueued.' },
    ]);
    expect(scheduleOutcomeAlerts({ scheduleAction: 'toString', schedule: 'n' })).toEqual([]);
    expect(scheduleOutcomeAlerts({})).toEqual([]);
  });
});

import { CronSchedule, InvalidScheduleError } from './cron-schedule';

const at = (iso: string) => new Date(iso);
const iso = (date: Date | null) => date?.toISOString() ?? null;

/** Every time it fires in [from, to), by walking nextAfter. */
function firesBetween(schedule: CronSchedule, from: string, to: string): string[] {
  const times: string[] = [];
  for (let t = schedule.nextAfter(at(from)); t && t < at(to); t = schedule.nextAfter(t)) times.push(t.toISOString());
  return times;
}

describe('CronSchedule', () => {
  it('takes 6 fields with seconds first, and counts a run exactly at the reference as at-or-before', () => {
    const everySecond = CronSchedule.parse('* * * * * *', null);
    expect(iso(everySecond.latestAtOrBefore(at('2026-01-01T00:00:05.000Z')))).toBe('2026-01-01T00:00:05.000Z');
    expect(iso(everySecond.latestAtOrBefore(at('2026-01-01T00:00:04.999Z')))).toBe('2026-01-01T00:00:04.000Z');
    expect(iso(everySecond.nextAfter(at('2026-01-01T00:00:05.000Z')))).toBe('2026-01-01T00:00:06.000Z');
  });

  it('reads 5 fields as minute-level, in UTC when no zone is given', () => {
    const daily = CronSchedule.parse('0 3 * * *', null);
    expect(iso(daily.latestAtOrBefore(at('2026-06-01T12:00:00Z')))).toBe('2026-06-01T03:00:00.000Z');
  });

  it('reads the fields in the time zone given', () => {
    const berlin = CronSchedule.parse('0 3 * * *', 'Europe/Berlin');
    expect(iso(berlin.latestAtOrBefore(at('2026-06-01T12:00:00Z')))).toBe('2026-06-01T01:00:00.000Z'); // CEST
    expect(iso(berlin.latestAtOrBefore(at('2026-01-15T12:00:00Z')))).toBe('2026-01-15T02:00:00.000Z'); // CET
  });

  describe("daylight saving time in Europe/Berlin (croner's rule, fixedTimeRule 'no-wildcard')", () => {
    const at0230 = CronSchedule.parse('30 2 * * *', 'Europe/Berlin');

    it('runs a 02:30 job once on the spring-forward day (02:30 does not exist): at 03:00, the first time after the gap', () => {
      // 2026-03-29: 02:00 CET -> 03:00 CEST.
      expect(firesBetween(at0230, '2026-03-28T00:00:00Z', '2026-03-30T00:00:00Z')).toEqual([
        '2026-03-28T01:30:00.000Z', // 02:30 CET
        '2026-03-29T01:00:00.000Z', // 03:00 CEST
      ]);
    });

    it('runs a 02:30 job once on the fall-back day (02:30 comes twice): the first time', () => {
      // 2026-10-25: 03:00 CEST -> 02:00 CET; 02:30 is 00:30Z and 01:30Z.
      expect(firesBetween(at0230, '2026-10-25T00:00:00Z', '2026-10-26T00:00:00Z')).toEqual([
        '2026-10-25T00:30:00.000Z',
      ]);
    });

    it('treats a list of fixed hours as fixed-time too: 02:30 of "30 2,14 * * *" runs once on the fall-back day', () => {
      const twiceDaily = CronSchedule.parse('30 2,14 * * *', 'Europe/Berlin');
      expect(firesBetween(twiceDaily, '2026-10-25T00:00:00Z', '2026-10-26T00:00:00Z')).toEqual([
        '2026-10-25T00:30:00.000Z',
        '2026-10-25T13:30:00.000Z',
      ]);
    });

    it('keeps an interval job on real time: every 30 minutes runs through the repeated hour and skips the missing one', () => {
      const halfHourly = CronSchedule.parse('*/30 * * * *', 'Europe/Berlin');
      // 02:00 and 02:30 CEST, then 02:00 and 02:30 again in CET.
      expect(firesBetween(halfHourly, '2026-10-24T23:59:59Z', '2026-10-25T02:00:00Z')).toEqual([
        '2026-10-25T00:00:00.000Z',
        '2026-10-25T00:30:00.000Z',
        '2026-10-25T01:00:00.000Z',
        '2026-10-25T01:30:00.000Z',
      ]);
      // 01:00 and 01:30 CET, then 03:00 and 03:30 CEST: no 02:xx that day.
      expect(firesBetween(halfHourly, '2026-03-28T23:59:59Z', '2026-03-29T02:00:00Z')).toEqual([
        '2026-03-29T00:00:00.000Z',
        '2026-03-29T00:30:00.000Z',
        '2026-03-29T01:00:00.000Z',
        '2026-03-29T01:30:00.000Z',
      ]);
    });
  });

  it.each([
    ['61 * * * *', null, /Invalid cron expression "61 \* \* \* \*"/],
    ['* * * *', null, /Invalid cron expression/],
    ['* * * * * * *', null, /Invalid cron expression/],
    ['', null, /A cron expression is 5 fields/],
    ['0 0 31 2 *', null, /never fires/],
    ['0 3 * * *', 'Europe/Nowhere', /Unknown time zone "Europe\/Nowhere"/],
  ])('refuses %j in zone %j with a clear error', (expression, zone, message) => {
    const parse = () => CronSchedule.parse(expression, zone);
    expect(parse).toThrow(InvalidScheduleError);
    expect(parse).toThrow(message);
  });
});

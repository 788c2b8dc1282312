import { uniqueJobId } from '@app/background-jobs';
import { jobRecord } from '../support/job-records';
import { cliOnFreshDatabase } from './support/cli-on-database';
import { e2eCases, skipUnavailable } from './support/e2e-backends';

/**
 * The built CLI's commands for job authors, on a fresh database of each backend: enqueue with a
 * unique key, cancel, and the schedule commands; exit codes 0 done, 1 not found, 2 bad input, 3
 * not applicable (a job already finished).
 */
jest.setTimeout(120_000);

describe.each(e2eCases)('the jobs CLI for job authors on %s', (_label, backend) => {
  if (skipUnavailable(backend)) return;
  const suite = cliOnFreshDatabase(backend);
  const jobs = (...args: string[]) => suite.jobs(...args);

  it('enqueue --unique-key keeps one job per key: the same id, the waiting job kept or replaced', async () => {
    const enqueue = (content: string, ...more: string[]) =>
      jobs('enqueue', '--job', 'MyReportJobArgs', '--args', JSON.stringify({ content }), '--unique-key', 'k1', ...more);
    const id = uniqueJobId(null, 'MyReportJobArgs', 'k1');
    expect(await enqueue('first')).toEqual({ code: 0, stdout: id, stderr: '' });
    expect(await enqueue('second')).toEqual({
      code: 0,
      stdout: id,
      stderr: 'kept: a job with this unique key is waiting or running already\n',
    });
    expect((await suite.store.find(id))?.jobArgs).toBe('{"content":"first"}');
    const replaced = await enqueue('third', '--on-conflict', 'replace', '--priority', 'High');
    expect(replaced).toMatchObject({ code: 0, stdout: id, stderr: expect.stringMatching(/^replaced: /) as unknown });
    expect(await suite.store.find(id)).toMatchObject({ jobArgs: '{"content":"third"}', priority: 25 });
    const bad = await enqueue('x', '--on-conflict', 'overwrite');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: option '--on-conflict <mode>' argument 'overwrite' is invalid/);
  });

  it('cancel abandons a waiting job as cancelled by the CLI user; exit 3 once finished, 1 when not found', async () => {
    const [waiting] = [jobRecord()];
    await suite.store.insert([waiting]);
    expect(await jobs('cancel', waiting.id)).toEqual({
      code: 0,
      stdout: 'Cancelled: the job was waiting and will not run',
      stderr: '',
    });
    const row = (await suite.store.find(waiting.id))!;
    expect(row.isAbandoned).toBe(true);
    expect(JSON.parse(row.extraProperties)).toMatchObject({
      LastError: 'cancelled',
      CancelledBy: expect.stringMatching(/^cli:\S+@\S+$/) as unknown,
    });
    expect(await jobs('cancel', waiting.id)).toMatchObject({ code: 3 });
    expect(await jobs('cancel', '00000000-0000-4000-8000-000000000000')).toMatchObject({
      code: 1,
      stderr: 'error: No job with id "00000000-0000-4000-8000-000000000000"\n',
    });
    expect(await jobs('cancel', 'nope')).toMatchObject({
      code: 2,
      stderr: 'error: A background job id is a UUID, got "nope"\n',
    });
  });

  it('schedule add, list, pause, resume, trigger and remove', async () => {
    expect(
      await jobs(
        'schedule',
        'add',
        'nightly',
        '--cron',
        '0 3 * * *',
        '--job',
        'MyReportJobArgs',
        '--args',
        '{"content":"n"}',
        '--tz',
        'Europe/Berlin',
      ),
    ).toEqual({ code: 0, stdout: 'Schedule nightly created', stderr: '' });
    expect(
      await jobs(
        'schedule',
        'add',
        'nightly',
        '--cron',
        '30 3 * * *',
        '--job',
        'MyReportJobArgs',
        '--tz',
        'Europe/Berlin',
      ),
    ).toMatchObject({ code: 0, stdout: 'Schedule nightly updated' });
    const [listed] = JSON.parse((await jobs('schedule', 'list', '--json')).stdout) as Array<Record<string, unknown>>;
    expect(listed).toMatchObject({
      name: 'nightly',
      cron: '30 3 * * *',
      timeZone: 'Europe/Berlin',
      jobName: 'MyReportJobArgs',
      args: '{}',
      paused: false,
      source: 'runtime',
      lastRunTime: null,
    });
    expect(new Date(listed.nextRunTime as string).getTime()).toBeGreaterThan(Date.now());
    expect((await jobs('schedule', 'list')).stdout).toMatch(
      /^name\s+cron\s+time zone\s+job name\s+state\s+next run\s+last run\s+args\nnightly\s+30 3 \* \* \*\s+Europe\/Berlin\s+MyReportJobArgs\s+active\s+\S+\s+-\s+\{\}$/,
    );
    expect(await jobs('schedule', 'pause', 'nightly')).toEqual({
      code: 0,
      stdout: 'Schedule nightly paused',
      stderr: '',
    });
    expect((await jobs('schedule', 'list')).stdout).toMatch(/^nightly\s.*\spaused\s+-\s+-\s+\{\}$/m);
    expect(await jobs('schedule', 'resume', 'nightly')).toMatchObject({ code: 0, stdout: 'Schedule nightly resumed' });
    const triggered = await jobs('schedule', 'trigger', 'nightly');
    expect(triggered).toMatchObject({ code: 0, stdout: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown });
    expect(JSON.parse((await suite.store.find(triggered.stdout))!.extraProperties)).toEqual({
      Schedule: 'nightly',
      Trigger: 'manual',
    });
    expect(await jobs('schedule', 'remove', 'nightly')).toMatchObject({ code: 0, stdout: 'Schedule nightly removed' });
    expect(await jobs('schedule', 'list')).toMatchObject({ code: 0, stdout: 'No schedules.' });
  });

  it.each([
    [
      ['schedule', 'add', 'x', '--cron', '0 25 * * *', '--job', 'MyReportJobArgs'],
      2,
      /^error: Invalid cron expression "0 25 \* \* \*"/,
    ],
    [
      ['schedule', 'add', 'x', '--cron', '0 3 * * *', '--job', 'MyReportJobArgs', '--tz', 'Mars/Base'],
      2,
      /^error: Unknown time zone "Mars\/Base"/,
    ],
    [['schedule', 'add', 'x', '--cron', '0 3 * * *', '--job', 'NoSuchJob'], 2, /^error: Undefined background job/],
    [
      ['schedule', 'add', 'x', '--cron', '0 3 * * *', '--job', 'MyReportJobArgs', '--args', '[1]'],
      2,
      /is invalid\. the args are a JSON object/,
    ],
    [['schedule', 'add', 'x', '--job', 'MyReportJobArgs'], 2, /^error: required option '--cron <expr>' not specified$/],
    [['schedule', 'pause', 'no-such'], 1, /^error: No schedule is named "no-such"$/],
    [['schedule', 'trigger', 'no-such'], 1, /^error: No schedule is named "no-such"$/],
  ])('refuses %j with exit code %i and one line', async (args, code, message) => {
    const run = await jobs(...args);
    expect(run.code).toBe(code);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr.trimEnd()).toMatch(message);
  });
});

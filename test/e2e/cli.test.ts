import { resolve } from 'node:path';
import { BackgroundJobRecord } from '@app/background-jobs';
import { rowIn } from '../support/admin-rows';
import { NodeProcess } from '../support/node-process';
import { DIST_DIR } from './support/apps';
import { cliOnFreshDatabase, CliRun } from './support/cli-on-database';
import { e2eCases, skipUnavailable } from './support/e2e-backends';

/**
 * `node dist/cli.js` (`npm run jobs --`), the built CLI, against a fresh database of each backend:
 * every command, its exit code and what it prints; bad input gets one line and exit code 2. Rows
 * in the states the CLI acts on are written through the store, as a worker would leave them.
 */
jest.setTimeout(120_000);

describe.each(e2eCases)('the jobs CLI on %s', (_label, backend) => {
  if (skipUnavailable(backend)) return;
  const suite = cliOnFreshDatabase(backend);
  const jobs = (...args: string[]) => suite.jobs(...args);
  const json = <T>(run: CliRun): T => {
    expect(run).toMatchObject({ code: 0 });
    return JSON.parse(run.stdout) as T;
  };
  const insert = async (...rows: BackgroundJobRecord[]) => {
    await suite.store.insert(rows);
    return rows;
  };

  it('enqueue prints the new id; stats counts it, in a table and as JSON', async () => {
    const now = await jobs('enqueue', '--job', 'MyReportJobArgs', '--args', '{"content":"from the CLI"}');
    const later = await jobs(
      'enqueue',
      '--job',
      'MyReportJobArgs',
      '--args',
      '{"content":"later"}',
      '--delay',
      '600000',
      '--priority',
      'High',
    );
    for (const run of [now, later])
      expect(run).toMatchObject({ code: 0, stdout: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown });
    expect(await suite.store.find(now.stdout)).toMatchObject({ jobArgs: '{"content":"from the CLI"}', priority: 15 });
    expect(await suite.store.find(later.stdout)).toMatchObject({ priority: 25 });

    const stats = json<Record<string, unknown>>(await jobs('stats', '--json'));
    expect(stats).toMatchObject({ waiting: 1, scheduled: 1, succeeded: null, estimated: false });
    const table = await jobs('stats');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^\s+waiting\s+scheduled\s+retrying\s+processing\s+abandoned\s+succeeded$/m);
    expect(table.stdout).toMatch(/^MyReportJobArgs\s+1\s+1\s+0\s+0\s+0\s+not kept$/m);
  });

  it('list and show: JSON as the service returns it, text with control characters escaped', async () => {
    const [hostile] = await insert(
      rowIn('abandoned', {
        jobName: 'Evil\u001b[31mName',
        jobArgs: JSON.stringify({ html: '<script>alert(1)</script>', nl: 'a\nb' }),
      }),
    );
    const page = json<{ items: Array<{ id: string; jobName: string; jobArgs: string }>; next: null }>(
      await jobs('list', '--state', 'abandoned', '--job', hostile.jobName, '--json'),
    );
    expect(page).toEqual({
      items: [expect.objectContaining({ id: hostile.id, jobName: hostile.jobName, jobArgs: hostile.jobArgs })],
      next: null,
    });
    const text = await jobs('list', '--state', 'abandoned');
    expect(text.stdout).toContain('Evil\\u001b[31mName');
    expect(text.stdout).not.toContain('\u001b');

    const shown = await jobs('show', hostile.id);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^state\s+abandoned$/m);
    expect(shown.stdout).toContain('"html": "<script>alert(1)</script>"');
    expect(json<{ state: string }>(await jobs('show', hostile.id, '--json')).state).toBe('abandoned');

    const missing = await jobs('show', '00000000-0000-4000-8000-000000000000');
    expect(missing).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: No job with id "00000000-0000-4000-8000-000000000000"\n',
    });
  });

  it('requeue, run-now and delete: by ids and by state; a held job is left alone (exit 3); each writes one log line', async () => {
    const [abandoned, held, scheduled, other] = await insert(
      rowIn('abandoned', { jobName: 'CliRequeue' }),
      rowIn('processing', { jobName: 'CliRequeue' }),
      rowIn('scheduled', { jobName: 'CliRequeue' }),
      rowIn('abandoned', { jobName: 'CliOther' }),
    );
    const requeued = await jobs('requeue', abandoned.id, held.id);
    expect(requeued).toMatchObject({ code: 3 });
    expect(requeued.stdout).toBe(`Requeued 1 job(s): ${abandoned.id}\nheld by a worker, left alone: ${held.id}`);
    expect(requeued.stderr).toMatch(
      new RegExp(`^cli:\\S+@\\S+ requeued 1 job\\(s\\): ${abandoned.id}; refused 1 held by a worker: ${held.id}\\n$`),
    );
    expect(await suite.store.find(abandoned.id)).toMatchObject({ isAbandoned: false, tryCount: 0 });

    expect(await jobs('run-now', scheduled.id, '--json')).toMatchObject({
      code: 0,
      stdout: JSON.stringify({ done: [scheduled.id], held: [], missing: [] }),
    });
    expect((await suite.store.find(scheduled.id))!.nextTryTime.getTime()).toBeLessThanOrEqual(Date.now());

    const [more] = await insert(rowIn('abandoned', { jobName: 'CliRequeue' }));
    expect(json(await jobs('requeue', '--state', 'abandoned', '--job', 'CliRequeue', '--json'))).toEqual({
      done: [more.id],
      held: [],
      missing: [],
    });
    expect((await suite.store.find(other.id))!.isAbandoned).toBe(true);

    expect(json(await jobs('delete', '--state', 'abandoned', '--job', 'CliOther', '--json'))).toEqual({
      done: [other.id],
      held: [],
      missing: [],
    });
    const deleted = await jobs('delete', held.id, scheduled.id);
    expect(deleted.code).toBe(3);
    expect(deleted.stdout).toBe(`Deleted 1 job(s): ${scheduled.id}\nheld by a worker, left alone: ${held.id}`);
    expect(await suite.store.find(held.id)).toEqual(held);
  });

  it.each([
    [['nonsense'], /^error: unknown command 'nonsense'/],
    [['list'], /^error: required option '--state <state>' not specified$/],
    [['list', '--state', 'running'], /^error: option '--state <state>' argument 'running' is invalid\./],
    [['list', '--state', 'waiting', '--limit', '0'], /^error: option '--limit <n>' argument '0' is invalid\./],
    [['list', '--state', 'waiting', '--after', 'bogus'], /^error: Invalid cursor: not a cursor of a job list$/],
    [['requeue'], /^error: requeue: give the ids of the jobs, or --state/],
    [
      ['requeue', '00000000-0000-4000-8000-000000000000', '--state', 'abandoned'],
      /^error: requeue: give ids or --state, not both$/,
    ],
    [['requeue', '--state', 'waiting'], /^error: option '--state <state>' argument 'waiting' is invalid\./],
    [['delete', '--job', 'X'], /^error: delete: --job needs --state$/],
    [['delete', '--state', 'processing'], /^error: option '--state <state>' argument 'processing' is invalid\./],
    [['run-now'], /^error: missing required argument 'ids'$/],
    [
      ['enqueue', '--job', 'MyReportJobArgs', '--args', '{nope'],
      /^error: option '--args <json>' argument '\{nope' is invalid\. not JSON/,
    ],
    [['enqueue', '--job', 'MyReportJobArgs', '--args', '[1]'], /is invalid\. the args are a JSON object/],
    [
      ['enqueue', '--job', 'NoSuchJob', '--args', '{}'],
      /^error: Undefined background job for the job args type\/name: NoSuchJob$/,
    ],
    [['enqueue', '--job', 'MyReportJobArgs', '--args', '{}', '--priority', '256'], /^error: option '--priority <n>'/],
    [['enqueue', '--job', 'MyReportJobArgs', '--args', '{}', '--delay', '-5'], /^error: option '--delay <ms>'/],
  ])('refuses %j with exit code 2 and one line', async (args, message) => {
    const run = await jobs(...args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr.trimEnd()).toMatch(message);
  });

  it('help for every command, exit code 0', async () => {
    for (const command of ['stats', 'list', 'show', 'requeue', 'run-now', 'delete', 'enqueue']) {
      const run = await jobs('help', command);
      expect([command, run.code]).toEqual([command, 0]);
      expect(run.stdout).toMatch(new RegExp(`^Usage: jobs ${command} `));
    }
    expect((await jobs('--help')).stdout).toContain('requeue [options] [ids...]');
  });
});

it('fails with one line and exit code 1 when the database cannot be reached', async () => {
  const child = new NodeProcess({
    name: 'jobs stats',
    script: resolve(DIST_DIR, 'cli.js'),
    args: ['stats'],
    env: { ConnectionStrings__AbpBackgroundJobs: 'postgresql://nobody@127.0.0.1:1/none', Logging__Format: 'json' },
  });
  expect(await child.closedWithin(60_000)).toEqual({ code: 1, signal: null });
  expect(child.rawStdout).toEqual([]);
  expect(child.stderr).toMatch(/^error: cannot reach the database: .*ECONNREFUSED.*\n$/);
});

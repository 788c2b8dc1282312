import {
  DashboardTestApp,
  get,
  postForm,
  send,
  startDashboardTestApp,
} from '../../../../test/support/dashboard-test-app';
import { fakeJob } from '../../../../test/support/fake-background-jobs-admin';

/** The pages' forms: what each action asks of the service, and what the page it redirects to says. */
describe('dashboard forms on a fake management service', () => {
  let app: DashboardTestApp;

  beforeEach(async () => {
    app = await startDashboardTestApp();
  });

  afterEach(async () => {
    await app.close();
  });

  it('requeues one job and says so; a job a worker holds is refused with a message saying why', async () => {
    const free = fakeJob('abandoned');
    const held = fakeJob('retrying');
    app.admin.jobs = [free, held];
    app.admin.held.add(held.id);

    const done = await postForm(app, `/jobs/jobs/${free.id}/requeue`, []);
    expect(done.status).toBe(303);
    const after = await get(app, done.headers.get('location')!);
    expect(after.text).toContain('The job was requeued.');
    expect(app.admin.calls).toEqual([{ action: 'requeue', ids: [free.id], actor: { name: '127.0.0.1' } }]);

    const refused = await postForm(app, `/jobs/jobs/${held.id}/requeue`, []);
    const page = await get(app, refused.headers.get('location')!);
    expect(page.text).toContain('Refused: a worker holds this job (it is running it now), so it was not requeued.');
  });

  it('runs a scheduled job now, deletes one and goes back to its list', async () => {
    const scheduled = fakeJob('scheduled');
    const doomed = fakeJob('waiting');
    app.admin.jobs = [scheduled, doomed];
    await postForm(app, `/jobs/jobs/${scheduled.id}/run-now`, []);
    expect(scheduled.state).toBe('waiting');
    const deleted = await postForm(app, `/jobs/jobs/${doomed.id}/delete`, []);
    expect(deleted.headers.get('location')).toBe('/jobs/states/waiting?action=delete&done=1&held=0&missing=0&one=1');
    expect(await app.admin.get(doomed.id)).toBeUndefined();
  });

  it('acts on a selection and tells done from held', async () => {
    const [a, b, c] = [fakeJob('abandoned'), fakeJob('abandoned'), fakeJob('abandoned')];
    app.admin.jobs = [a, b, c];
    app.admin.held.add(c.id);
    const response = await postForm(app, '/jobs/actions', [
      ['state', 'abandoned'],
      ['action', 'requeue'],
      ['ids', a.id],
      ['ids', b.id],
      ['ids', c.id],
    ]);
    const page = await get(app, response.headers.get('location')!);
    expect(page.text).toContain('2 jobs requeued.');
    expect(page.text).toContain('Refused for 1 job: a worker holds it (running now), so it was not requeued.');
    const misfit = await postForm(app, '/jobs/actions', [
      ['state', 'abandoned'],
      ['action', 'run-now'],
      ['ids', a.id],
    ]);
    expect(misfit.status).toBe(400);
  });

  it('requeues and deletes all abandoned of one job name; deleting them needs the box ticked', async () => {
    app.admin.jobs = [
      fakeJob('abandoned', { jobName: 'X' }),
      fakeJob('abandoned', { jobName: 'X' }),
      fakeJob('abandoned'),
    ];
    const list = await get(app, '/jobs/states/abandoned?jobName=X');
    expect(list.text).toContain('id="bj-all-of-name"');
    const requeued = await postForm(app, '/jobs/actions/all', [
      ['state', 'abandoned'],
      ['jobName', 'X'],
      ['action', 'requeue'],
    ]);
    expect(requeued.headers.get('location')).toBe(
      '/jobs/states/abandoned?jobName=X&action=requeue&done=2&held=0&missing=0',
    );
    expect(app.admin.calls[0]).toEqual({
      action: 'requeueWhere',
      selection: { state: 'abandoned', jobName: 'X' },
      actor: { name: '127.0.0.1' },
    });
    const unticked = await postForm(app, '/jobs/actions/all', [
      ['state', 'abandoned'],
      ['jobName', 'MyReportJobArgs'],
      ['action', 'delete'],
    ]);
    expect(unticked.status).toBe(400);
    expect(unticked.text).toContain('Tick &quot;I mean it&quot;');
    expect(app.admin.jobs).toHaveLength(3);
    await postForm(app, '/jobs/actions/all', [
      ['state', 'abandoned'],
      ['jobName', 'MyReportJobArgs'],
      ['action', 'delete'],
      ['confirm', 'yes'],
    ]);
    expect(app.admin.jobs).toHaveLength(2);
  });

  it('cancels a waiting job from its page as the user let in, and says so; a running one is asked to stop', async () => {
    const waiting = fakeJob('waiting');
    const running = fakeJob('processing');
    app.admin.jobs = [waiting, running, fakeJob('succeeded')];
    app.jobs.outcomes.set(waiting.id, 'cancelled').set(running.id, 'cancelling');
    const page = await get(app, `/jobs/jobs/${waiting.id}`);
    expect(page.text).toContain(`<form method="post" action="/jobs/jobs/${waiting.id}/cancel" id="bj-cancel">`);

    const cancelled = await postForm(app, `/jobs/jobs/${waiting.id}/cancel`, []);
    expect([cancelled.status, cancelled.headers.get('location')]).toEqual([
      303,
      `/jobs/jobs/${waiting.id}?cancel=cancelled`,
    ]);
    expect((await get(app, cancelled.headers.get('location')!)).text).toContain(
      'The job was cancelled: it will not run',
    );
    expect(app.jobs.cancels).toEqual([{ id: waiting.id, by: '127.0.0.1' }]);
    const asked = await postForm(app, `/jobs/jobs/${running.id}/cancel`, []);
    expect((await get(app, asked.headers.get('location')!)).text).toContain(
      'Cancel requested: the worker running the job aborts it',
    );
    expect((await postForm(app, '/jobs/jobs/0190a0b0-0000-7000-8000-ffffffffffff/cancel', [])).status).toBe(404);
  });

  it('offers cancel only for jobs not finished, and none when read-only', async () => {
    const jobs = (['waiting', 'scheduled', 'retrying', 'processing', 'abandoned', 'succeeded'] as const).map((state) =>
      fakeJob(state),
    );
    app.admin.jobs = jobs;
    const offered = [];
    for (const job of jobs)
      if ((await get(app, `/jobs/jobs/${job.id}`)).text.includes('id="bj-cancel"')) offered.push(job.state);
    expect(offered).toEqual(['waiting', 'scheduled', 'retrying', 'processing']);
    await app.close();
    app = await startDashboardTestApp({ readOnly: true });
    app.admin.jobs = [jobs[0]];
    expect((await get(app, `/jobs/jobs/${jobs[0].id}`)).text).not.toContain('bj-cancel');
    expect((await postForm(app, `/jobs/jobs/${jobs[0].id}/cancel`, [])).status).toBe(403);
    expect(app.jobs.cancels).toEqual([]);
  });

  it('refuses a form sent by another site', async () => {
    const job = fakeJob('abandoned');
    app.admin.jobs = [job];
    const response = await send(app, 'POST', `/jobs/jobs/${job.id}/requeue`, {
      body: '',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'cross-site' },
    });
    expect(response.status).toBe(403);
    expect(response.text).toContain('came from another site');
    expect(app.admin.calls).toEqual([]);
  });
});

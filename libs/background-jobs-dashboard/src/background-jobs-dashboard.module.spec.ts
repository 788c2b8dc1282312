import { BackgroundJobsDashboardModule } from './background-jobs-dashboard.module';
import {
  DashboardTestApp,
  JSON_WRITE,
  get,
  postForm,
  send,
  startDashboardTestApp,
} from '../../../test/support/dashboard-test-app';
import { fakeJob } from '../../../test/support/fake-background-jobs-admin';

/** Who gets in, and where the module is mounted, through HTTP against the module alone. */
describe('dashboard access through HTTP', () => {
  let app: DashboardTestApp | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('with no settings lets loopback in and refuses a remote client a trusted proxy names, seeing nothing', async () => {
    app = await startDashboardTestApp({ trustProxy: ['loopback'] });
    app.admin.jobs = [fakeJob('waiting', { jobName: 'Secret' })];
    expect((await get(app, '/jobs')).status).toBe(200);
    for (const path of ['/jobs', '/jobs/api/stats', '/jobs/states/waiting', '/jobs/assets/dashboard.js']) {
      const remote = await get(app, path, { 'x-forwarded-for': '203.0.113.9' });
      expect([path, remote.status]).toEqual([path, 403]);
      expect(remote.text).not.toContain('Secret');
      expect(remote.text).toContain('only requests from this machine');
    }
    // A local client behind the same local proxy is local.
    expect((await get(app, '/jobs', { 'x-forwarded-for': '127.0.0.1' })).status).toBe(200);
  });

  it('without a trusted proxy refuses a request that claims to be forwarded for loopback', async () => {
    app = await startDashboardTestApp();
    expect((await get(app, '/jobs', { 'x-forwarded-for': '127.0.0.1' })).status).toBe(403);
  });

  it('with a username and password asks everyone for HTTP Basic auth and names the user in the action', async () => {
    app = await startDashboardTestApp({ username: 'ops', password: 'pa:ss wörd' });
    const job = fakeJob('abandoned');
    app.admin.jobs = [job];
    const anonymous = await get(app, '/jobs/api/stats');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Basic realm="Background jobs", charset="UTF-8"');
    const basic = (user: string, password: string) =>
      `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
    expect((await get(app, '/jobs', { authorization: basic('ops', 'wrong') })).status).toBe(401);
    expect((await get(app, '/jobs', { authorization: basic('Ops', 'pa:ss wörd') })).status).toBe(401);
    expect((await get(app, '/jobs', { authorization: basic('ops', 'pa:ss wörd') })).status).toBe(200);
    await send(app, 'POST', `/jobs/api/jobs/${job.id}/requeue`, {
      body: '{}',
      headers: { ...JSON_WRITE, authorization: basic('ops', 'pa:ss wörd') },
    });
    expect(app.admin.calls[0].actor).toEqual({ name: 'ops' });
  });

  it('read-only shows no actions and refuses every write with 403', async () => {
    app = await startDashboardTestApp({ readOnly: true });
    const job = fakeJob('abandoned', { jobName: 'X' });
    app.admin.jobs = [job];
    for (const path of ['/jobs/states/abandoned?jobName=X', `/jobs/jobs/${job.id}`]) {
      const page = await get(app, path);
      expect(page.text).not.toContain('method="post"');
    }
    const api = await send(app, 'POST', `/jobs/api/jobs/${job.id}/requeue`, { body: '{}', headers: JSON_WRITE });
    expect([api.status, api.json()]).toEqual([403, { message: expect.stringContaining('read-only') as unknown }]);
    const form = await postForm(app, `/jobs/jobs/${job.id}/requeue`, []);
    expect(form.status).toBe(403);
    expect(app.admin.calls).toEqual([]);
  });

  it('an authorize hook decides instead of the local rule', async () => {
    app = await startDashboardTestApp({ authorize: (req) => req.headers['x-test-user'] === 'admin' });
    expect((await get(app, '/jobs')).status).toBe(403);
    expect((await get(app, '/jobs', { 'x-test-user': 'admin' })).status).toBe(200);
  });

  it('takes its options from a factory with forRootAsync, the path given as it is', async () => {
    app = await startDashboardTestApp(
      BackgroundJobsDashboardModule.forRootAsync({
        path: '/queue',
        useFactory: async () => ({ readOnly: true, username: 'ops', password: 'secret' }),
      }),
    );
    const auth = { authorization: `Basic ${Buffer.from('ops:secret').toString('base64')}` };
    expect((await get(app, '/queue')).status).toBe(401);
    expect((await get(app, '/queue', auth)).status).toBe(200);
    const write = await send(app, 'POST', '/queue/api/requeue', {
      body: '{"ids":[]}',
      headers: { ...JSON_WRITE, ...auth },
    });
    expect(write.status).toBe(403);
  });

  it('mounts at another path, and not at all when disabled', async () => {
    app = await startDashboardTestApp({ path: '/ops/queue/' });
    expect((await get(app, '/ops/queue')).status).toBe(200);
    expect((await get(app, '/ops/queue/api/stats')).status).toBe(200);
    expect((await get(app, '/jobs')).status).toBe(404);
    await app.close();
    app = await startDashboardTestApp({ enabled: false });
    expect((await get(app, '/jobs')).status).toBe(404);
  });
});

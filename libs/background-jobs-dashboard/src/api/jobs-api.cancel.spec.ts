import { DashboardTestApp, JSON_WRITE, send, startDashboardTestApp } from '../../../../test/support/dashboard-test-app';

/** POST /jobs/api/jobs/:id/cancel: the manager's cancel, as the caller the access guard let in. */
describe('dashboard JSON API: cancel', () => {
  let app: DashboardTestApp;
  afterEach(async () => {
    await app.close();
  });

  it('answers 200 with the outcome, 409 for a finished job, 404 for an unknown one; the caller is who cancelled', async () => {
    app = await startDashboardTestApp();
    const [waiting, running, done] = [
      '0190a0b0-0000-7000-8000-000000000001',
      '0190a0b0-0000-7000-8000-000000000002',
      '0190a0b0-0000-7000-8000-000000000003',
    ];
    app.jobs.outcomes.set(waiting, 'cancelled').set(running, 'cancelling').set(done, 'finished');
    const cancel = (id: string) =>
      send(app, 'POST', `/jobs/api/jobs/${id}/cancel`, { body: '{}', headers: JSON_WRITE });

    const cancelled = await cancel(waiting.toUpperCase());
    expect([cancelled.status, cancelled.json()]).toEqual([200, { id: waiting, outcome: 'cancelled' }]);
    expect((await cancel(running)).json()).toEqual({ id: running, outcome: 'cancelling' });
    const finished = await cancel(done);
    expect([finished.status, finished.json()]).toEqual([
      409,
      { message: expect.stringContaining('has finished') as unknown },
    ]);
    expect((await cancel('0190a0b0-0000-7000-8000-ffffffffffff')).status).toBe(404);
    expect((await cancel('not-an-id')).status).toBe(404);
    expect(app.jobs.cancels.map((c) => c.by)).toEqual([
      expect.stringMatching(/127\.0\.0\.1/),
      expect.stringMatching(/127\.0\.0\.1/),
      expect.stringMatching(/127\.0\.0\.1/),
      expect.stringMatching(/127\.0\.0\.1/),
    ]);
  });

  it('is a write: refused in read-only mode, and without Content-Type: application/json', async () => {
    app = await startDashboardTestApp({ readOnly: true });
    const id = '0190a0b0-0000-7000-8000-000000000001';
    app.jobs.outcomes.set(id, 'cancelled');
    expect((await send(app, 'POST', `/jobs/api/jobs/${id}/cancel`, { body: '{}', headers: JSON_WRITE })).status).toBe(
      403,
    );
    await app.close();
    app = await startDashboardTestApp();
    const plain = await send(app, 'POST', `/jobs/api/jobs/${id}/cancel`, {
      body: '{}',
      headers: { 'content-type': 'text/plain' },
    });
    expect(plain.status).toBe(415);
    expect(app.jobs.cancels).toEqual([]);
  });
});

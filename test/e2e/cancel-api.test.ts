import { appsOnFreshDatabase } from './support/apps-on-database';
import { findRow, insertRows, rowIn } from './support/dashboard-rows';
import { e2eCases, skipUnavailable } from './support/e2e-backends';

jest.setTimeout(60_000);

/** POST /jobs/api/jobs/:id/cancel on the built web app: the job manager's cancel behind the dashboard's access rules. */
describe.each(e2eCases)('cancel through the JSON API on %s', (_label, backend) => {
  if (skipUnavailable(backend)) return;
  const apps = appsOnFreshDatabase(backend);
  const cancel = async (id: string) => {
    const response = await fetch(`${apps.web.baseUrl}/jobs/api/jobs/${id}/cancel`, {
      method: 'POST',
      body: '{}',
      headers: { accept: 'application/json', 'content-type': 'application/json' },
    });
    return { status: response.status, body: await response.json() };
  };

  it('abandons a waiting job as cancelled by the caller, leaves a request for a held one; 409 once finished, 404 unknown', async () => {
    const [waiting, held] = [rowIn.waiting(), rowIn.processing()];
    await insertRows(apps.db.connectionString, [waiting, held]);

    expect(await cancel(waiting.id)).toEqual({ status: 200, body: { id: waiting.id, outcome: 'cancelled' } });
    const row = (await findRow(apps.db.connectionString, waiting.id))!;
    expect(row.isAbandoned).toBe(true);
    expect(JSON.parse(row.extraProperties)).toMatchObject({
      LastError: 'cancelled',
      CancelledBy: expect.stringContaining('127.0.0.1') as unknown,
    });
    expect(await cancel(held.id)).toEqual({ status: 200, body: { id: held.id, outcome: 'cancelling' } });
    expect((await cancel(waiting.id)).status).toBe(409);
    expect((await cancel('0190a0b0-0000-7000-8000-ffffffffffff')).status).toBe(404);
  });
});

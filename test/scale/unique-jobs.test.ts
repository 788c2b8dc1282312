import { resolve } from 'node:path';
import { uniqueJobId } from '@app/background-jobs';
import { describeOnScaleBackends } from './support/describe-on-scale-backends';
import { remainingRows } from './support/scale-database';
import { report } from './support/report';
import { NodeProcess } from '../support/node-process';

jest.setTimeout(120_000);

const ENQUEUER = resolve(__dirname, '../fixtures/fixture-enqueuer.js');
const PROCESSES = 8;

describeOnScaleBackends('eight processes enqueueing one unique key at once', (ctx) => {
  it('leave one row, and every process gets its id', async () => {
    const key = `order-${Date.now()}`;
    const startAt = Date.now() + 8000;
    const enqueuers = Array.from(
      { length: PROCESSES },
      (_, i) =>
        new NodeProcess({
          name: `enqueuer ${i + 1}`,
          script: ENQUEUER,
          env: {
            ConnectionStrings__AbpBackgroundJobs: ctx.database.db.connectionString,
            Logging__Format: 'json',
            FIXTURE_START_AT: String(startAt),
            FIXTURE_UNIQUE_KEY: key,
          },
        }),
    );
    try {
      const exits = await Promise.all(enqueuers.map((p) => p.closedWithin(60_000)));
      for (const [i, exit] of exits.entries())
        expect({ process: i + 1, code: exit.code, stderr: enqueuers[i].stderr }).toMatchObject({ code: 0 });
    } finally {
      await Promise.all(enqueuers.map((p) => p.stop('SIGKILL', 5000)));
    }
    const results = enqueuers.map((p) => p.linesMatching('fixture-enqueued')[0]);
    const ready = enqueuers.map((p) => p.linesMatching('fixture-ready')[0].time!);
    const at = results.map((r) => r.time!);
    report('unique key from eight processes', {
      backend: ctx.name,
      lastReadyBeforeStartMs: startAt - Math.max(...ready),
      spreadMs: Math.max(...at) - Math.min(...at),
    });
    // All were up before the start, so the enqueues really raced.
    expect(Math.max(...ready)).toBeLessThan(startAt);
    const id = uniqueJobId(null, 'FixtureSleep', key);
    expect(results.map((r) => r.id)).toEqual(enqueuers.map(() => id));
    expect(results.filter((r) => r.outcome === 'enqueued')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'kept')).toHaveLength(PROCESSES - 1);
    const rows = (await remainingRows(ctx.database)).filter((r) => r.jobName === 'FixtureSleep');
    expect(rows.map((r) => r.id)).toEqual([id]);
  });
});

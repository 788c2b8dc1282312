import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
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
    const dir = mkdtempSync(join(tmpdir(), 'unique-go-'));
    const goFile = join(dir, 'go');
    const enqueuers = Array.from(
      { length: PROCESSES },
      (_, i) =>
        new NodeProcess({
          name: `enqueuer ${i + 1}`,
          script: ENQUEUER,
          env: {
            ConnectionStrings__AbpBackgroundJobs: ctx.database.db.connectionString,
            Logging__Format: 'json',
            FIXTURE_GO_FILE: goFile,
            FIXTURE_UNIQUE_KEY: key,
          },
        }),
    );
    const go = { at: 0 };
    try {
      // Every process up and connected, then all go at once.
      await Promise.all(enqueuers.map((p) => p.waitForLog('fixture-ready', 60_000)));
      go.at = Date.now();
      writeFileSync(goFile, '');
      const exits = await Promise.all(enqueuers.map((p) => p.closedWithin(60_000)));
      for (const [i, exit] of exits.entries())
        expect({ process: i + 1, code: exit.code, stderr: enqueuers[i].stderr }).toMatchObject({ code: 0 });
    } finally {
      await Promise.all(enqueuers.map((p) => p.stop('SIGKILL', 5000)));
      rmSync(dir, { recursive: true, force: true });
    }
    const results = enqueuers.map((p) => p.linesMatching('fixture-enqueued')[0]);
    const at = results.map((r) => r.time!);
    report('unique key from eight processes', {
      backend: ctx.name,
      firstDoneAfterGoMs: Math.min(...at) - go.at,
      spreadMs: Math.max(...at) - Math.min(...at),
    });
    const id = uniqueJobId(null, 'FixtureSleep', key);
    expect(results.map((r) => r.id)).toEqual(enqueuers.map(() => id));
    expect(results.filter((r) => r.outcome === 'enqueued')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'kept')).toHaveLength(PROCESSES - 1);
    const rows = (await remainingRows(ctx.database)).filter((r) => r.jobName === 'FixtureSleep');
    expect(rows.map((r) => r.id)).toEqual([id]);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MyReportJobArgs } from '@app/common-shared';
import { newLeaseToken } from '@app/background-jobs/store/stamps';
import { openEnqueueApp } from './ours';
import { onCleanup } from './support/cleanup';
import { createDatabase } from './support/postgres';
import { clockMs } from './support/processes';

export interface ClaimCostResult {
  store: 'PostgreSQL' | 'SQLite';
  waitingRows: number;
  /** False: right after the bulk load, before anything analysed the table (autovacuum is held off). */
  analysed: boolean;
  rowsPerClaim: number;
  claims: number;
  claimMsP50: number;
  claimMsMax: number;
}

export interface ClaimCostOptions {
  sizes: number[];
  stores: Array<'PostgreSQL' | 'SQLite'>;
  log: (message: string) => void;
}

/** A worker's claim with the default MaxJobFetchCount (1000): half its local queue. */
const ROWS_PER_CLAIM = 500;
/** Enough that one slow spell of the shared machine does not move the median. */
const CLAIMS = 30;
const LOAD_CHUNK = 20_000;

/**
 * What one claim costs as the table grows: for each size, a fresh database is bulk-loaded with
 * that many due jobs (enqueueMany, 20,000 per call), then the store claims 500 rows and deletes
 * them, as a worker does, 30 times right after the load (PostgreSQL's autovacuum is switched off
 * for the table, so nothing has analysed it) and 30 times after ANALYZE; 500 new rows after each
 * claim keep the number of waiting rows where it was. The figure is the claim's time as the worker
 * sees it (the statement's round trip and reading its rows).
 */
export async function measureClaimCost(options: ClaimCostOptions): Promise<ClaimCostResult[]> {
  const results: ClaimCostResult[] = [];
  for (const store of options.stores) {
    for (const size of options.sizes) {
      options.log(`claim cost: ${store}, ${size.toLocaleString('en-US')} waiting rows`);
      results.push(...(await claimCostOn(store, size, options.log)));
    }
  }
  return results;
}

async function claimCostOn(
  store: 'PostgreSQL' | 'SQLite',
  size: number,
  log: (message: string) => void,
): Promise<ClaimCostResult[]> {
  const database = store === 'PostgreSQL' ? await createDatabase('claimcost') : undefined;
  const dir = store === 'SQLite' ? mkdtempSync(join(tmpdir(), 'bj-claimcost-')) : undefined;
  const removeDir = dir ? onCleanup(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true })) : undefined;
  const app = await openEnqueueApp(database ? database.url : `Data Source=${join(dir!, 'jobs.db')}`);
  try {
    if (database) await app.dataSource.query('ALTER TABLE "AbpBackgroundJobs" SET (autovacuum_enabled = false)');
    const loadStarted = clockMs();
    for (let loaded = 0; loaded < size; loaded += LOAD_CHUNK) {
      const count = Math.min(LOAD_CHUNK, size - loaded);
      await app.manager.enqueueMany(
        Array.from({ length: count }, (_, i) => ({
          args: Object.assign(new MyReportJobArgs(), { content: `claim-cost-${loaded + i}` }),
        })),
      );
    }
    log(`  loaded in ${Math.round(clockMs() - loadStarted)} ms`);
    let topUps = 0;
    const results: ClaimCostResult[] = [];
    for (const analysed of [false, true]) {
      if (analysed) await app.dataSource.query('ANALYZE "AbpBackgroundJobs"');
      const times: number[] = [];
      for (let i = 0; i < CLAIMS; i++) {
        const now = new Date();
        const started = clockMs();
        const claimed = await app.store.claim({
          applicationName: null,
          jobNames: ['MyReportJobArgs'],
          limit: ROWS_PER_CLAIM,
          now,
          leaseUntil: new Date(now.getTime() + 60_000),
          leaseToken: newLeaseToken(),
        });
        times.push(clockMs() - started);
        if (claimed.length !== ROWS_PER_CLAIM) throw new Error(`a claim took ${claimed.length} rows`);
        await app.store.complete(
          claimed[0].leaseToken,
          claimed.map((job) => job.id),
        );
        await app.manager.enqueueMany(
          claimed.map((_, j) => ({
            args: Object.assign(new MyReportJobArgs(), { content: `claim-cost-more-${topUps++}-${j}` }),
          })),
        );
      }
      times.sort((a, b) => a - b);
      const result: ClaimCostResult = {
        store,
        waitingRows: size,
        analysed,
        rowsPerClaim: ROWS_PER_CLAIM,
        claims: CLAIMS,
        claimMsP50: round1(times[Math.floor((times.length - 1) / 2)]),
        claimMsMax: round1(times[times.length - 1]),
      };
      log(
        `  ${analysed ? 'after ANALYZE' : 'fresh       '}: claim of ${ROWS_PER_CLAIM} rows p50 ${result.claimMsP50} ms, max ${result.claimMsMax} ms`,
      );
      results.push(result);
    }
    return results;
  } finally {
    await app.close();
    await database?.drop();
    await removeDir?.();
  }
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

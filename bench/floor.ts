import type { Client } from 'pg';
import { createDatabase, settlePostgres, withClient } from './support/postgres';
import { sleep } from '../test/support/wait-for';
import { clockMs } from './support/processes';
import { percentile } from './measure';

/**
 * What this machine's PostgreSQL costs before any job system's code runs, at the latency probes'
 * pace (one statement every `pauseMs`, over one connection, on a fresh database): the round trip
 * of `SELECT 1`, and of a one-row INSERT that commits (its WAL flushed to disk, as every enqueue
 * and every claim is). A pickup on PostgreSQL waits for two such commits before its job can start
 * (the enqueue's INSERT, then the worker's claim), whichever system runs it.
 */
export interface FloorResult {
  samples: number;
  pauseMs: number;
  selectP50Ms: number;
  selectP95Ms: number;
  commitP50Ms: number;
  commitP95Ms: number;
}

interface FloorOptions {
  samples: number;
  pauseMs: number;
  log: (message: string) => void;
}

export async function measureFloor(options: FloorOptions): Promise<FloorResult> {
  const database = await createDatabase('floor');
  try {
    return await withClient(database.url, (client) => probe(client, options));
  } finally {
    await database.drop();
  }
}

async function probe(client: Client, options: FloorOptions): Promise<FloorResult> {
  await client.query('CREATE TABLE floor_probe (id uuid PRIMARY KEY, created timestamp NOT NULL)');
  await settlePostgres();
  const select: number[] = [];
  const commit: number[] = [];
  // Taking turns, so a slow spell of the machine falls on both alike.
  for (let i = 0; i < options.samples; i++) {
    await sleep(options.pauseMs);
    let started = clockMs();
    await client.query({ name: 'floor_select', text: 'SELECT 1' });
    select.push(clockMs() - started);
    await sleep(options.pauseMs);
    started = clockMs();
    await client.query({
      name: 'floor_insert',
      text: 'INSERT INTO floor_probe (id, created) VALUES (gen_random_uuid(), now())',
    });
    commit.push(clockMs() - started);
  }
  const result: FloorResult = {
    samples: options.samples,
    pauseMs: options.pauseMs,
    selectP50Ms: percentile(select, 50),
    selectP95Ms: percentile(select, 95),
    commitP50Ms: percentile(commit, 50),
    commitP95Ms: percentile(commit, 95),
  };
  options.log(
    `PostgreSQL floor, one statement every ${options.pauseMs} ms: SELECT 1 p50 ${result.selectP50Ms.toFixed(2)} ms, ` +
      `a committed one-row INSERT p50 ${result.commitP50Ms.toFixed(2)} ms (p95 ${result.commitP95Ms.toFixed(2)})`,
  );
  return result;
}

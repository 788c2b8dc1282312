import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModuleKind, transpileModule } from 'typescript';
import { limitHeapGrowth } from './heap-growth';

describe('limitHeapGrowth', () => {
  it('leaves a heap growing percent given on the node command line or in NODE_OPTIONS', () => {
    expect(limitHeapGrowth(['--heap-growing-percent=50'], '')).toBe(false);
    expect(limitHeapGrowth([], '--max-old-space-size=512 --heap_growing_percent=80')).toBe(false);
    expect(limitHeapGrowth(['--heap-growing-percent'], '')).toBe(false);
  });

  it('sets it otherwise, and not for a flag that only begins the same way', () => {
    expect(limitHeapGrowth(['--heap-growing-percentage-x=1'], '--inspect')).toBe(true);
    expect(limitHeapGrowth([], '')).toBe(true);
  });

  it('keeps the old generation close to what a full collection left, set after start-up', () => {
    // A process that makes some 600 MB of short-lived objects while it keeps about 20 MB, as a
    // busy worker does: after limitHeapGrowth (called once it runs, as the entrypoints do) its old
    // generation stays far below what V8's own growing factor lets it reach (here about 45 against
    // 105-120 MB; two runs without the setting differ by 10% at most).
    const source = transpileModule(readFileSync(join(__dirname, 'heap-growth.ts'), 'utf8'), {
      compilerOptions: { module: ModuleKind.CommonJS },
    }).outputText;
    const script = `
      const { getHeapSpaceStatistics } = require('node:v8');
      const Module = require('node:module');
      const heapGrowth = new Module('heap-growth');
      heapGrowth._compile(${JSON.stringify(source)}, 'heap-growth.js');
      if (process.argv[1] === 'limit' && !heapGrowth.exports.limitHeapGrowth()) throw new Error('not set');
      const kept = []; let peak = 0;
      for (let round = 0; round < 60; round++) {
        const batch = [];
        for (let i = 0; i < 20000; i++) batch.push({ id: 'job-' + round + '-' + i, args: { content: 'x'.repeat(400) } });
        kept.push(batch.slice(0, 2000));
        if (kept.length > 20) kept.shift();
        const old = getHeapSpaceStatistics().find((s) => s.space_name === 'old_space').space_size;
        peak = Math.max(peak, old);
      }
      process.stdout.write(String(peak));`;
    const peakOld = (mode: string) =>
      Number(spawnSync(process.execPath, ['-e', script, mode], { encoding: 'utf8' }).stdout);
    const limited = peakOld('limit');
    const unlimited = peakOld('default');
    expect(limited).toBeGreaterThan(0);
    expect(limited).toBeLessThan(unlimited * 0.7);
  }, 60_000);
});

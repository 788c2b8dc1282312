import { existsSync } from 'node:fs';
import { NodeProcess } from '../support/node-process';

/** The child-process wrapper every e2e and scale test (and the bench) reads its apps through. */
describe('NodeProcess', () => {
  const node = (code: string, env: Record<string, string> = {}) =>
    new NodeProcess({ name: 'child', script: '-e', args: [code], env });

  it('counts a process as closed only once its stdout has ended, not when it exits', async () => {
    // A process it starts shares its stdout and writes a line after it has exited: 'exit' comes before that line, 'close' after.
    const child = node(`
      const { spawn } = require('node:child_process');
      const late = "setTimeout(() => console.log(JSON.stringify({ msg: 'after the exit' })), 300)";
      spawn(process.execPath, ['-e', late], { stdio: ['ignore', 'inherit', 'inherit'] }).unref();
      console.log(JSON.stringify({ msg: 'before the exit' }));
      process.exitCode = 3;
    `);
    expect(await child.closed).toEqual({ code: 3, signal: null });
    expect(child.running).toBe(false);
    expect(child.messages()).toEqual(['before the exit', 'after the exit']);
  });

  it('runs in a temporary folder of its own, removed once it has closed', async () => {
    const child = node(`console.log(JSON.stringify({ msg: process.cwd() }))`);
    const { msg: cwd } = await child.waitForLog(/bj-process-/);
    await child.closed;
    expect(existsSync(cwd)).toBe(false);
  });

  it("passes none of the apps' settings from this process's environment, only those it is given", async () => {
    process.env.AbpBackgroundJobWorker__JobPollPeriod = '1';
    try {
      const child = node(
        `console.log(JSON.stringify({ msg: 'env', poll: process.env.AbpBackgroundJobWorker__JobPollPeriod, given: process.env.Web__Secret }))`,
        {
          Web__Secret: 'given',
        },
      );
      const line = await child.waitForLog('env');
      expect({ poll: line.poll, given: line.given }).toEqual({ poll: undefined, given: 'given' });
      await child.closed;
    } finally {
      delete process.env.AbpBackgroundJobWorker__JobPollPeriod;
    }
  });

  it('fails a wait for a line at once when the process closes without writing it', async () => {
    const child = node(`console.error('gave up'); process.exit(1)`);
    const started = Date.now();
    await expect(child.waitForLog('never written', 30_000)).rejects.toThrow(
      /child closed \(exit code 1\) before logging never written[\s\S]*gave up/,
    );
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('stops with SIGKILL a process that ignores SIGTERM past the deadline', async () => {
    const child = node(`process.on('SIGTERM', () => {}); console.log('{"msg":"ready"}'); setInterval(() => {}, 1000)`);
    await child.waitForLog('ready');
    expect(await child.stop('SIGTERM', 500)).toEqual({ code: null, signal: 'SIGKILL' });
  });
});

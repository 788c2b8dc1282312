import type { NodeProcess } from '../../test/support/node-process';
import { sleep } from '../../test/support/wait-for';
import { startBenchProcess } from '../support/processes';
import { CONSUMER_ENTRY } from '../support/paths';

/** Starts `consumer.js <peer>` and resolves once it reported ready (and had a moment to go idle). */
export async function startPeerConsumer(
  peer: string,
  config: object,
  env: Record<string, string> = {},
): Promise<NodeProcess> {
  const consumer = startBenchProcess({
    name: `${peer} consumer`,
    script: CONSUMER_ENTRY,
    args: [peer, Buffer.from(JSON.stringify(config)).toString('base64')],
    env,
    ipc: true,
  });
  await new Promise<void>((resolve, reject) => {
    const stderr = () => consumer.stderr.slice(-4000);
    const timer = setTimeout(
      () => reject(new Error(`${peer} consumer not ready in 30 s. stderr: ${stderr()}`)),
      30_000,
    );
    consumer.child.once('message', () => (clearTimeout(timer), resolve()));
    void consumer.closed.then(
      ({ code }) => (clearTimeout(timer), reject(new Error(`${peer} consumer exited (${code}). stderr: ${stderr()}`))),
    );
  });
  await sleep(200);
  return consumer;
}

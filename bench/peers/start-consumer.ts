import { BenchProcess, sleep } from '../support/processes';
import { CONSUMER_ENTRY } from '../support/paths';

/** Starts `consumer.js <peer>` and resolves once it reported ready (and had a moment to go idle). */
export async function startPeerConsumer(peer: string, config: object, env: Record<string, string> = {}): Promise<BenchProcess> {
  const consumer = new BenchProcess({
    name: `${peer} consumer`,
    script: CONSUMER_ENTRY,
    args: [peer, Buffer.from(JSON.stringify(config)).toString('base64')],
    env,
    ipc: true,
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${peer} consumer not ready in 30 s. stderr: ${consumer.stderr}`)), 30_000);
    consumer.child.once('message', () => (clearTimeout(timer), resolve()));
    consumer.child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`${peer} consumer exited (${code}). stderr: ${consumer.stderr}`))));
  });
  await sleep(200);
  return consumer;
}

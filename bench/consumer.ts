/**
 * A peer's consumer, in its own process as our worker is: `node dist/bench/consumer.js <peer> <config>`.
 * Sends `{ ready: true }` over IPC once it listens/polls and is idle; SIGTERM stops it cleanly.
 */
import { consumeBullmq } from './peers/bullmq';
import { consumeGraphile } from './peers/graphile';
import { consumePgBoss } from './peers/pg-boss';

type Stop = () => Promise<void>;
const consumers: Record<string, (config: never) => Promise<Stop>> = {
  graphile: consumeGraphile,
  'pg-boss': consumePgBoss,
  bullmq: consumeBullmq,
};

async function main(): Promise<void> {
  const [peer, encoded] = process.argv.slice(2);
  const consume = consumers[peer];
  if (!consume) throw new Error(`unknown peer ${peer}`);
  const stop = await consume(JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as never);
  let stopping = false;
  const shutdown = () => {
    if (stopping) process.exit(1);
    stopping = true;
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`stop failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  process.on('disconnect', shutdown);
  process.send?.({ ready: true });
}

main().catch((error: unknown) => {
  process.stderr.write(`consumer failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

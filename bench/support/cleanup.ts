/**
 * Everything the run creates (processes, databases, Redis keys, files) registers how to undo it
 * here; `runCleanups` undoes it all, newest first, whatever failed. A signal to the orchestrator
 * runs the same cleanups before it exits.
 */
type Cleanup = { name: string; run: () => Promise<void> | void };

const cleanups: Cleanup[] = [];

export function onCleanup(name: string, run: () => Promise<void> | void): () => Promise<void> {
  const entry = { name, run };
  cleanups.push(entry);
  /** Runs this one now (once) and forgets it. */
  return async () => {
    const index = cleanups.indexOf(entry);
    if (index < 0) return;
    cleanups.splice(index, 1);
    await entry.run();
  };
}

export async function runCleanups(): Promise<void> {
  while (cleanups.length > 0) {
    const entry = cleanups.pop()!;
    try {
      await entry.run();
    } catch (error) {
      process.stderr.write(`cleanup "${entry.name}" failed: ${(error as Error)?.message ?? error}\n`);
    }
  }
}

let interrupted = false;
export function cleanUpOnSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      process.stderr.write(`\n${signal}: cleaning up\n`);
      void runCleanups().finally(() => process.exit(130));
    });
  }
}

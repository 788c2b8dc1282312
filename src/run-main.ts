/**
 * Runs an entrypoint; a start-up failure (a bad setting, no database) prints one clear message
 * and exits 1 instead of a stack of framework frames.
 */
export function runMain(name: string, main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${name} failed to start: ${message}\n`);
    if (process.env.DEBUG_STARTUP && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    process.exit(1);
  });
}

/**
 * SIGTERM or SIGINT close the app (the worker finishes or releases its jobs first) and exit 0,
 * as a service manager expects; Nest's own shutdown hooks re-raise the signal instead. Another
 * signal more than two seconds later exits at once, and so does a close still hanging after
 * `forceExitAfterMs` (a database that stopped answering without closing the connection).
 */
export function closeOnSignals(app: { close(signal?: string): Promise<void> }, forceExitAfterMs = 60_000): void {
  let closingSince: number | undefined;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (closingSince !== undefined) {
        // Ctrl+C under `npm start` arrives twice (from the terminal and from concurrently): only a
        // later one means "stop now".
        if (Date.now() - closingSince > 2000) process.exit(1);
        return;
      }
      closingSince = Date.now();
      setTimeout(() => {
        process.stderr.write(`shutdown did not finish within ${forceExitAfterMs} ms; exiting\n`);
        process.exit(1);
      }, forceExitAfterMs).unref();
      app.close(signal).then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(`shutdown failed: ${error instanceof Error ? error.message : String(error)}\n`);
          process.exit(1);
        },
      );
    });
  }
}

/**
 * Waiting for an event by polling, for the tests and the bench alike (plain Node, no jest: the
 * bench imports it from dist/).
 */

/** Thrown from a `waitFor` check when waiting longer cannot help (the process under test has closed). */
export class StopWaiting extends Error {}

/**
 * Polls `check` until it returns a truthy value, and returns that value. Errors from `check` count
 * as "not yet" (a server still starting refuses connections), except StopWaiting, which ends the
 * wait at once. Past the deadline it fails naming `what`, the last value and the last error.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs = 15_000,
  intervalMs = 50,
): Promise<Exclude<T, undefined | null | false>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      last = await check();
      if (last) return last as Exclude<T, undefined | null | false>;
    } catch (error) {
      if (error instanceof StopWaiting) throw error;
      lastError = error;
    }
    if (Date.now() > deadline) {
      const reason = lastError instanceof Error ? `, last error: ${lastError.message}` : '';
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)}${reason})`);
    }
    await sleep(intervalMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

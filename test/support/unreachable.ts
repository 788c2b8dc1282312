import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from './open-store';

/**
 * For each backend name in backends.ts, a connection string the store cannot reach: a closed port
 * for network databases, for SQLite a "file" that is a directory. Opening it must fail with the
 * driver's own error, which the store's isUnavailable() has to recognise.
 */
export const unreachableConnectionStrings: Record<string, () => { connectionString: string; cleanup: () => void }> = {
  sqlite: () => {
    const dir = mkdtempSync(join(tmpdir(), 'bj-unreachable-'));
    return { connectionString: `Data Source=${dir}`, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  },
  postgres: () => ({ connectionString: `postgresql://root@127.0.0.1:${CLOSED_PORT}/none`, cleanup: () => undefined }),
  mysql: () => ({ connectionString: `mysql://root@127.0.0.1:${CLOSED_PORT}/none`, cleanup: () => undefined }),
  sqlserver: () => ({
    connectionString: `Server=127.0.0.1,${CLOSED_PORT};Database=none;User Id=sa;Password=x;TrustServerCertificate=True`,
    cleanup: () => undefined,
  }),
};

/** Port 1 (tcpmux) has no listener on any machine these tests run on: connecting is refused at once. */
export const CLOSED_PORT = 1;

/** The error the driver gives when the backend's database cannot be reached. */
export async function unreachableError(backendName: string, provider?: string): Promise<unknown> {
  const target = unreachableConnectionStrings[backendName];
  if (!target) throw new Error(`test/support/unreachable.ts has no entry for the backend "${backendName}"`);
  const { connectionString, cleanup } = target();
  try {
    const opened = await openStore(connectionString, provider);
    await opened.close();
  } catch (error) {
    return error;
  } finally {
    cleanup();
  }
  throw new Error(`Opening ${connectionString} unexpectedly succeeded`);
}

import type { TestDatabase } from '../../support/databases';
import { startWeb, WebApp } from './apps';

/** The servers reached by a URL whose host and port a proxy can stand in for, with their default ports. */
export const PROXIED_PORTS: Partial<Record<string, number>> = { postgres: 5432, mysql: 3306 };

/**
 * Puts the proxy `makeProxy` builds in front of the database's server and starts the web app on
 * the database through it. `name` is the backend's (for its default port). The caller stops both.
 */
export async function startWebBehindProxy<
  P extends { start(): Promise<void>; stop(): Promise<void>; readonly port: number },
>(db: TestDatabase, name: string, makeProxy: (host: string, port: number) => P): Promise<{ proxy: P; web: WebApp }> {
  const target = new URL(db.connectionString);
  const proxy = makeProxy(target.hostname, Number(target.port || PROXIED_PORTS[name]));
  await proxy.start();
  const viaProxy = new URL(db.connectionString);
  viaProxy.host = `127.0.0.1:${proxy.port}`;
  try {
    return { proxy, web: await startWeb({ connectionString: viaProxy.toString() }) };
  } catch (error) {
    await proxy.stop();
    throw error;
  }
}

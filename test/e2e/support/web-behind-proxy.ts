import type { Backend } from '../../support/backends';
import type { TestDatabase } from '../../support/databases';
import { startWeb, WebApp } from './apps';
import { setByHooks } from '../../support/set-by-hooks';

/** The servers reached by a URL whose host and port a proxy can stand in for, with their default ports. */
export const PROXIED_PORTS: Partial<Record<string, number>> = { postgres: 5432, mysql: 3306 };

interface Proxy {
  readonly port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A describe block's database, the proxy in front of its server, and the web app reaching it through the proxy. */
export interface WebBehindProxy<P extends Proxy> {
  db: TestDatabase;
  proxy: P;
  web: WebApp;
}

/**
 * Registers, in the calling describe, before its tests: a fresh database of `backend` (one of
 * PROXIED_PORTS), the proxy `makeProxy` builds in front of its server, and the web app on the
 * database through that proxy; after them, the stop of both and the drop of the database. Read the
 * fields inside hooks and tests, where they are set.
 */
export function webBehindProxyOnFreshDatabase<P extends Proxy>(
  backend: Backend,
  makeProxy: (host: string, port: number) => P,
): Readonly<WebBehindProxy<P>> {
  const apps: Partial<WebBehindProxy<P>> = {};

  beforeAll(async () => {
    apps.db = await backend.create();
    const target = new URL(apps.db.connectionString);
    apps.proxy = makeProxy(target.hostname, Number(target.port || PROXIED_PORTS[backend.name]));
    await apps.proxy.start();
    const viaProxy = new URL(apps.db.connectionString);
    viaProxy.host = `127.0.0.1:${apps.proxy.port}`;
    apps.web = await startWeb({ connectionString: viaProxy.toString() });
  });

  afterAll(async () => {
    await apps.web?.app.stop();
    await apps.proxy?.stop();
    await apps.db?.drop();
  });

  return setByHooks(apps);
}

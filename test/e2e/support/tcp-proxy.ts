import { createServer, connect, Server, Socket } from 'node:net';
import { tieForwardedPair } from './forwarded-pair';

/**
 * A TCP forwarder between an app and its database that a test can cut (every open connection
 * destroyed, new ones refused) and restore on the same port: a database outage without touching
 * the database server other tests share.
 */
export class TcpProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private listenPort = 0;
  private blackholed = false;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  get port(): number {
    return this.listenPort;
  }

  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost);
      tieForwardedPair(client, upstream, this.sockets);
      // Not pipe(): a black-holed link must be able to swallow bytes without closing anything.
      client.on('data', (chunk) => this.blackholed || upstream.write(chunk));
      upstream.on('data', (chunk) => this.blackholed || client.write(chunk));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.listenPort, '127.0.0.1', () => resolve());
    });
    this.listenPort = (server.address() as { port: number }).port;
    this.server = server;
  }

  /** Destroys every open connection and stops listening, so new connections are refused. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    // A reset, as a crashed server or a dropped link looks to the client.
    for (const socket of this.sockets) socket.resetAndDestroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Keeps every connection open but delivers nothing either way: a network partition, not a crash. */
  blackhole(): void {
    this.blackholed = true;
  }

  /** Listens again on the same port (after cut) and delivers bytes again (after blackhole). */
  async restore(): Promise<void> {
    this.blackholed = false;
    if (!this.server) await this.start();
  }

  stop(): Promise<void> {
    return this.cut();
  }
}

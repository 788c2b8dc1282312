import { createServer, connect, Server, Socket } from 'node:net';
import { tieForwardedPair } from './forwarded-pair';

/**
 * A TCP forwarder between an app and its database that can lose one answer: once armed with a
 * marker, the connection whose request contains it is reset as soon as the database starts to
 * answer that request. The database has done the work (an autocommit INSERT has committed), but
 * the app only sees the connection drop: the answer lost on the way back.
 */
export class LostReplyProxy {
  port = 0;
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private marker?: string;
  private onLost?: () => void;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost);
      let doomed = false;
      tieForwardedPair(client, upstream, this.sockets);
      client.on('data', (chunk: Buffer) => {
        if (this.marker !== undefined && chunk.includes(this.marker)) {
          this.marker = undefined;
          doomed = true;
        }
        upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => {
        if (!doomed) {
          client.write(chunk);
          return;
        }
        client.resetAndDestroy();
        upstream.destroy();
        this.onLost?.();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  /** Loses the answer to the next request whose bytes contain `marker`; resolves once it has. */
  loseNextReplyTo(marker: string): Promise<void> {
    this.marker = marker;
    return new Promise((resolve) => (this.onLost = resolve));
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

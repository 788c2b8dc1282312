import { Agent, request } from 'node:http';

/**
 * POSTs an urlencoded form over one kept-alive connection with node:http, as a browser sends it
 * once the user clicks: the bytes go out at once. Measured on this machine against a bare
 * node:http server, undici's fetch (Node's global fetch) spent about 1.1 ms more per round trip
 * than this (2.2 against 1.1 ms p50), time that is the bench's client's, not the system's.
 * Resolves with the answer's status once its body has been read.
 */
export class FormPoster {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  post(path: string, body: string, cookie: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.host,
          port: this.port,
          path,
          method: 'POST',
          agent: this.agent,
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'content-length': Buffer.byteLength(body),
            cookie,
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AppMetrics } from '../observability/app-metrics';
import { HealthAnswer, HealthChecks } from '../observability/health-checks';
import { isForwarded, METRICS_REFUSED, metricsAllowed } from '../observability/metrics-access';

/**
 * The worker's only port, opened when Worker__HttpPort is set: GET /health/live, /health/ready
 * and /metrics, nothing else. It opens once the worker has started and closes after it has
 * stopped, so probes and scrapes answer while shutdown drains the running jobs. No proxy is ever
 * trusted here: /metrics goes to loopback clients only, unless Metrics__AllowRemote=true.
 */
@Injectable()
export class WorkerHttpServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('WorkerHttp');
  private server?: Server;

  constructor(
    private readonly config: ConfigService,
    private readonly health: HealthChecks,
    private readonly metrics: AppMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const port = this.config.get<number>('Worker__HttpPort');
    if (port === undefined) return;
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        this.logger.error(`${req.method} ${req.url} failed: ${String(error)}`);
        if (!res.headersSent) send(res, 500, 'text/plain', 'Internal error\n');
        else res.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(new Error(`Worker__HttpPort=${port}: cannot listen (${error.code ?? error.message})`)),
      );
      server.listen(port, () => resolve());
    });
    this.server = server;
    const { port: bound } = server.address() as AddressInfo;
    this.logger.log(`Worker HTTP server listening on port ${bound}: /health/live, /health/ready, /metrics`);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const known = path === '/health/live' || path === '/health/ready' || path === '/metrics';
    if (!known)
      return send(res, 404, 'text/plain', 'Not found: this port serves /health/live, /health/ready and /metrics\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, 405, 'text/plain', 'Method not allowed\n');
    }
    if (path === '/health/live') return sendHealth(res, await this.health.live());
    if (path === '/health/ready') return sendHealth(res, await this.health.ready());
    const request = {
      clientAddress: req.socket.remoteAddress,
      forwarded: isForwarded(req.headers),
      proxyTrusted: false,
    };
    if (!metricsAllowed(request, this.config.get<boolean>('Metrics__AllowRemote') === true))
      return send(res, 403, 'text/plain', METRICS_REFUSED);
    const { contentType, body } = await this.metrics.render();
    send(res, 200, contentType, body);
  }
}

function sendHealth(res: ServerResponse, answer: HealthAnswer): void {
  send(res, answer.status, 'application/json; charset=utf-8', JSON.stringify(answer.body));
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

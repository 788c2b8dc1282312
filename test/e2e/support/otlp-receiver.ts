import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A span as OTLP/HTTP JSON carries it, with the service.name of its resource. */
export interface ReceivedSpan {
  service: string;
  scope: string;
  name: string;
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  links: Array<{ traceId: string; spanId: string }>;
  attributes: Record<string, unknown>;
  status: { code?: number; message?: string };
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpExport {
  resourceSpans: Array<{
    resource: { attributes: OtlpAttribute[] };
    scopeSpans: Array<{
      scope: { name: string };
      spans: Array<{
        name: string;
        kind: number;
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        links?: Array<{ traceId: string; spanId: string }>;
        attributes?: OtlpAttribute[];
        status?: { code?: number; message?: string };
      }>;
    }>;
  }>;
}

/**
 * An OTLP/HTTP trace receiver in the test process, for JSON exports (OTEL_EXPORTER_OTLP_PROTOCOL
 * =http/json, what @opentelemetry/exporter-trace-otlp-http sends): POST /v1/traces, spans kept.
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  private server?: Server;

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (req.method !== 'POST' || req.url !== '/v1/traces' || !req.headers['content-type']?.includes('json')) {
          res.writeHead(415).end();
          return;
        }
        this.receive(JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private receive(body: OtlpExport): void {
    for (const resourceSpans of body.resourceSpans) {
      const service = String(valueOf(resourceSpans.resource.attributes, 'service.name'));
      for (const { scope, spans } of resourceSpans.scopeSpans) {
        for (const span of spans) {
          this.spans.push({
            service,
            scope: scope.name,
            name: span.name,
            kind: span.kind,
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId || undefined,
            links: (span.links ?? []).map(({ traceId, spanId }) => ({ traceId, spanId })),
            attributes: Object.fromEntries((span.attributes ?? []).map((a) => [a.key, valueOf([a], a.key)])),
            status: span.status ?? {},
          });
        }
      }
    }
  }
}

function valueOf(attributes: OtlpAttribute[], key: string): unknown {
  const value = attributes.find((a) => a.key === key)?.value;
  if (!value) return undefined;
  if (value.intValue !== undefined) return Number(value.intValue);
  return value.stringValue ?? value.boolValue ?? value.doubleValue;
}

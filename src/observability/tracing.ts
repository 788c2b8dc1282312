import type { IncomingMessage } from 'node:http';

/**
 * OpenTelemetry tracing, on when the standard environment asks for it, as the SDK reads it:
 * OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (OTLP over HTTP, JSON), or
 * OTEL_TRACES_EXPORTER=otlp|console. OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none turn it
 * off. These are read from the environment only, not from .env (the SDK must start before the
 * app, to instrument its HTTP server). Off, nothing of the SDK is loaded and nothing is traced.
 */
export type AppProcess = 'web' | 'worker';

const EXPORTERS = ['otlp', 'console', 'none'] as const;
type ExporterName = (typeof EXPORTERS)[number];

let provider: { shutdown(): Promise<void> } | undefined;

export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return false;
  const exporters = exportersOf(env);
  if (exporters.length > 0) return !exporters.includes('none');
  return !!env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || !!env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
}

/** True once startTracing() has started the SDK in this process. */
export function tracingStarted(): boolean {
  return provider !== undefined;
}

/** Probes and scrapes make no spans: they would drown the requests people follow. */
export function isProbeRequest(request: Pick<IncomingMessage, 'url'>): boolean {
  const path = (request.url ?? '').split('?')[0];
  return path === '/metrics' || path === '/health' || path.startsWith('/health/');
}

/**
 * Starts the SDK when tracingRequested(): a tracer provider with a batching OTLP/HTTP exporter,
 * AsyncLocalStorage context, the W3C trace-context propagator and the HTTP instrumentation.
 * Call it first thing in an entrypoint, before the app is built.
 */
export async function startTracing(app: AppProcess, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (provider || !tracingRequested(env)) return;
  const named = exportersOf(env);
  const exporterNames: ExporterName[] = named.length > 0 ? named : ['otlp'];
  const [{ NodeTracerProvider }, { BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor }] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/sdk-trace-base'),
  ]);
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
  const { defaultResource, detectResources, envDetector, hostDetector, processDetector, resourceFromAttributes } =
    await import('@opentelemetry/resources');
  const { ATTR_SERVICE_NAME } = await import('@opentelemetry/semantic-conventions');
  const { registerInstrumentations } = await import('@opentelemetry/instrumentation');
  const { HttpInstrumentation } = await import('@opentelemetry/instrumentation-http');

  const spanProcessors = exporterNames.map((name) =>
    name === 'console'
      ? new SimpleSpanProcessor(new ConsoleSpanExporter())
      : new BatchSpanProcessor(new OTLPTraceExporter()),
  );
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (envDetector) win over the default name.
  const resource = defaultResource()
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: `abp-background-jobs-${app}` }))
    .merge(detectResources({ detectors: [processDetector, hostDetector, envDetector] }));
  const tracerProvider = new NodeTracerProvider({ resource, spanProcessors });
  tracerProvider.register();
  registerInstrumentations({
    tracerProvider,
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: isProbeRequest, requireParentforOutgoingSpans: true }),
    ],
  });
  provider = tracerProvider;
}

/** Exports the spans still buffered and stops the SDK (at shutdown; a no-op when tracing is off). */
export async function shutdownTracing(): Promise<void> {
  const running = provider;
  provider = undefined;
  await running?.shutdown();
}

function exportersOf(env: NodeJS.ProcessEnv): ExporterName[] {
  const names = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  for (const name of names) {
    if (!(EXPORTERS as readonly string[]).includes(name))
      throw new Error(
        `OTEL_TRACES_EXPORTER="${env.OTEL_TRACES_EXPORTER}": ${name} is not one of ${EXPORTERS.join(', ')}`,
      );
  }
  return names as ExporterName[];
}

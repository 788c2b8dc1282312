/** The W3C trace-context keys an enqueue keeps in a row's ExtraProperties (ABP's extra-properties dictionary). */
export const TRACE_CONTEXT_KEYS = ['traceparent', 'tracestate'] as const;

export type TraceCarrier = Partial<Record<(typeof TRACE_CONTEXT_KEYS)[number], string>>;

/**
 * The trace context an enqueue stored in the row's ExtraProperties, or undefined when it stored
 * none (enqueued while tracing was off, by ABP, or a bag that is not a JSON object).
 */
export function traceCarrierOf(extraProperties: string): TraceCarrier | undefined {
  if (!extraProperties.includes('"traceparent"')) return undefined; // most rows: no parse
  let bag: unknown;
  try {
    bag = JSON.parse(extraProperties);
  } catch {
    return undefined;
  }
  if (bag === null || typeof bag !== 'object' || Array.isArray(bag)) return undefined;
  const carrier: TraceCarrier = {};
  for (const key of TRACE_CONTEXT_KEYS) {
    const value = (bag as Record<string, unknown>)[key];
    if (typeof value === 'string') carrier[key] = value;
  }
  return carrier.traceparent === undefined ? undefined : carrier;
}

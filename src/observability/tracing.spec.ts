import { isProbeRequest, tracingRequested } from './tracing';

describe('tracingRequested', () => {
  it('is off when no OTEL_ variable names an exporter or endpoint', () => {
    expect(tracingRequested({})).toBe(false);
    expect(tracingRequested({ OTEL_SERVICE_NAME: 'jobs', OTEL_EXPORTER_OTLP_ENDPOINT: ' ' })).toBe(false);
  });

  it('is on with an OTLP endpoint or a traces exporter', () => {
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(true);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'otlp' })).toBe(true);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'console' })).toBe(true);
  });

  it('is off when told so, whatever else is set', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    expect(tracingRequested({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
    expect(tracingRequested({ ...endpoint, OTEL_SDK_DISABLED: 'TRUE' })).toBe(false);
  });

  it('refuses an exporter it does not have, naming it', () => {
    expect(() => tracingRequested({ OTEL_TRACES_EXPORTER: 'otlp,zipkin' })).toThrow(
      'OTEL_TRACES_EXPORTER="otlp,zipkin": zipkin is not one of otlp, console, none',
    );
  });
});

describe('isProbeRequest', () => {
  it('leaves probes and scrapes untraced, and only them', () => {
    for (const url of ['/health', '/health/live', '/health/ready?x=1', '/metrics'])
      expect(isProbeRequest({ url })).toBe(true);
    for (const url of ['/', '/healthy', '/metrics.html', undefined]) expect(isProbeRequest({ url })).toBe(false);
  });
});

import { isForwarded, isLoopback, metricsAllowed } from './metrics-access';

describe('metricsAllowed', () => {
  const direct = (clientAddress: string | undefined) => ({ clientAddress, forwarded: false, proxyTrusted: false });

  it('serves a client on this machine, over IPv4, IPv6 or IPv4-mapped IPv6', () => {
    for (const address of ['127.0.0.1', '127.10.0.3', '::1', '::ffff:127.0.0.1', '::FFFF:127.0.0.1'])
      expect(metricsAllowed(direct(address), false)).toBe(true);
  });

  it('refuses any other client, and a request whose address is unknown', () => {
    for (const address of [
      '10.0.0.5',
      '192.168.1.1',
      '::ffff:10.0.0.5',
      'fe80::1',
      '2001:db8::1',
      '128.0.0.1',
      undefined,
    ])
      expect(metricsAllowed(direct(address), false)).toBe(false);
  });

  it('refuses a forwarded request from a local proxy that Web__TrustProxy does not name', () => {
    expect(metricsAllowed({ clientAddress: '127.0.0.1', forwarded: true, proxyTrusted: false }, false)).toBe(false);
  });

  it('judges a request through a trusted proxy by the client address the proxy saw', () => {
    expect(metricsAllowed({ clientAddress: '127.0.0.1', forwarded: true, proxyTrusted: true }, false)).toBe(true);
    expect(metricsAllowed({ clientAddress: '203.0.113.9', forwarded: true, proxyTrusted: true }, false)).toBe(false);
  });

  it('serves everyone with Metrics__AllowRemote=true', () => {
    expect(metricsAllowed(direct('203.0.113.9'), true)).toBe(true);
    expect(metricsAllowed({ clientAddress: '203.0.113.9', forwarded: true, proxyTrusted: false }, true)).toBe(true);
  });
});

describe('isForwarded / isLoopback', () => {
  it('tells a forwarded request by X-Forwarded-For or Forwarded', () => {
    expect(isForwarded({ 'x-forwarded-for': '203.0.113.9' })).toBe(true);
    expect(isForwarded({ forwarded: 'for=203.0.113.9' })).toBe(true);
    expect(isForwarded({ host: 'localhost', 'x-forwarded-proto': 'https' })).toBe(false);
  });

  it('reads no host name or garbage as loopback', () => {
    expect(isLoopback('localhost')).toBe(false);
    expect(isLoopback('')).toBe(false);
    expect(isLoopback('127.0.0.1.evil')).toBe(false);
  });
});

import { clientAddress, isLocalRequest, isLoopback } from './client-address';

const from = (socketAddress: string, headers: Record<string, string> = {}) => ({ socketAddress, headers });

/** The local-requests rule decided on what a request carries: the socket's peer and its proxy headers. */
describe('isLocalRequest', () => {
  it.each(['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1'])('lets in %s with no settings', (address) => {
    expect(isLocalRequest(from(address), false)).toBe(true);
  });

  it.each(['10.0.0.5', '192.168.1.20', '203.0.113.9', '::ffff:203.0.113.9', '2001:db8::1', 'fe80::1'])(
    'refuses %s with no settings',
    (address) => {
      expect(isLocalRequest(from(address), false)).toBe(false);
    },
  );

  it('believes no proxy header without a trusted proxy: a loopback socket with X-Forwarded-For is not local', () => {
    for (const header of ['x-forwarded-for', 'forwarded', 'x-real-ip']) {
      expect(isLocalRequest(from('127.0.0.1', { [header]: '127.0.0.1' }), false)).toBe(false);
    }
  });

  it('refuses the remote client a trusted proxy names, and lets in the local one', () => {
    expect(isLocalRequest(from('127.0.0.1', { 'x-forwarded-for': '203.0.113.9' }), ['loopback'])).toBe(false);
    expect(isLocalRequest(from('127.0.0.1', { 'x-forwarded-for': '127.0.0.1' }), ['loopback'])).toBe(true);
    expect(isLocalRequest(from('10.1.2.3', { 'x-forwarded-for': '203.0.113.9' }), ['10.0.0.0/8'])).toBe(false);
    expect(isLocalRequest(from('10.1.2.3', { 'x-forwarded-for': '::1' }), ['10.0.0.0/255.0.0.0'])).toBe(true);
  });

  it('stops at the first hop it does not trust, so a client cannot forge the hops before it', () => {
    // The client put "127.0.0.1" first; the trusted proxy appended the address it really saw.
    const forged = from('127.0.0.1', { 'x-forwarded-for': '127.0.0.1, 203.0.113.9' });
    expect(clientAddress(forged, ['loopback'])).toBe('203.0.113.9');
    expect(clientAddress(forged, 1)).toBe('203.0.113.9');
    expect(clientAddress(forged, true)).toBe('127.0.0.1');
  });

  it('refuses a request from a proxy it does not trust even when the proxy is on this machine', () => {
    expect(isLocalRequest(from('127.0.0.1', { 'x-forwarded-for': '127.0.0.1' }), ['10.0.0.1'])).toBe(false);
  });

  it('refuses what is no address', () => {
    expect(isLocalRequest(from('127.0.0.1', { 'x-forwarded-for': 'localhost' }), ['loopback'])).toBe(false);
    expect(isLocalRequest({ socketAddress: undefined, headers: {} }, false)).toBe(false);
  });

  it('knows loopback from the rest', () => {
    expect([isLoopback('127.0.0.1'), isLoopback('::1'), isLoopback('128.0.0.1'), isLoopback('::2')]).toEqual([
      true,
      true,
      false,
      false,
    ]);
  });
});

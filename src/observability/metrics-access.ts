import { BlockList, isIPv4 } from 'node:net';

export interface MetricsRequest {
  /**
   * The client's address: the socket's peer, or in the web app Express's `req.ip`, which follows
   * X-Forwarded-For only through the proxies Web__TrustProxy names.
   */
  clientAddress: string | undefined;
  /** Whether the request carries X-Forwarded-For or Forwarded: it came through a proxy. */
  forwarded: boolean;
  /** Web__TrustProxy names the proxies in front (so clientAddress is already the client's own). */
  proxyTrusted: boolean;
}

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** 127.0.0.0/8, ::1 and 127.x written as an IPv4-mapped IPv6 address (::ffff:127.0.0.1). */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return loopback.check(mapped, 'ipv4');
  return loopback.check(address, isIPv4(address) ? 'ipv4' : 'ipv6');
}

/**
 * Who may read /metrics (job names can be sensitive): everyone with Metrics__AllowRemote=true,
 * otherwise only a client on this machine. A proxy on this machine makes every request it
 * forwards come from loopback, so without Web__TrustProxy a request that says it was forwarded
 * counts as remote; with it, clientAddress is the address the trusted proxy saw.
 */
export function metricsAllowed(request: MetricsRequest, allowRemote: boolean): boolean {
  if (allowRemote) return true;
  if (request.forwarded && !request.proxyTrusted) return false;
  return isLoopback(request.clientAddress);
}

/** The headers by which a proxy says a request was forwarded. */
export function isForwarded(headers: Record<string, string | string[] | undefined>): boolean {
  return headers['x-forwarded-for'] !== undefined || headers.forwarded !== undefined;
}

export const METRICS_REFUSED =
  '/metrics answers requests from this machine only; set Metrics__AllowRemote=true to serve it to others.\n';

import { BlockList, isIP } from 'node:net';
import type { DashboardTrustProxy } from '../dashboard.options';

/** What the local-requests rule reads of a request. */
export interface RequestOrigin {
  /** The TCP peer: the client itself, or the nearest proxy. */
  socketAddress: string | undefined;
  headers: Record<string, string | string[] | undefined>;
}

const NAMED_RANGES: Record<string, [string, number][]> = {
  loopback: [
    ['127.0.0.0', 8],
    ['::1', 128],
  ],
  linklocal: [
    ['169.254.0.0', 16],
    ['fe80::', 10],
  ],
  uniquelocal: [
    ['10.0.0.0', 8],
    ['172.16.0.0', 12],
    ['192.168.0.0', 16],
    ['fc00::', 7],
  ],
};

const LOOPBACK = subnets(['loopback']);

/**
 * Hangfire's local-requests rule: true only when the client is this machine. The client is found
 * as Express finds `req.ip` (proxy-addr): from the socket outwards through `X-Forwarded-For`, past
 * each hop `trust` names. A request that carries proxy headers but came from a hop that is not
 * trusted is refused: its client is unknown (a local nginx would otherwise make everyone local).
 */
export function isLocalRequest(origin: RequestOrigin, trust: DashboardTrustProxy): boolean {
  const client = clientAddress(origin, trust);
  return client !== undefined && isLoopback(client);
}

/** The client's address, or undefined when it cannot be known (proxied through an untrusted hop). */
export function clientAddress(origin: RequestOrigin, trust: DashboardTrustProxy): string | undefined {
  if (origin.socketAddress === undefined) return undefined;
  const forwardedFor = headerValues(origin.headers['x-forwarded-for'])
    .flatMap((value) => value.split(','))
    .map((hop) => hop.trim())
    .filter((hop) => hop !== '');
  const hops = [origin.socketAddress, ...forwardedFor.reverse()];
  const trusts = trustFunction(trust);
  for (let i = 0; i < hops.length - 1; i++) {
    if (trusts(hops[i], i)) continue;
    if (i === 0 && carriesProxyHeaders(origin.headers)) return undefined;
    return hops[i];
  }
  if (hops.length === 1 && carriesProxyHeaders(origin.headers)) return undefined;
  return hops[hops.length - 1];
}

export function isLoopback(address: string): boolean {
  return matches(LOOPBACK, address);
}

function carriesProxyHeaders(headers: RequestOrigin['headers']): boolean {
  return ['x-forwarded-for', 'forwarded', 'x-real-ip'].some((name) => headers[name] !== undefined);
}

function headerValues(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function trustFunction(trust: DashboardTrustProxy): (address: string, hop: number) => boolean {
  if (trust === true) return () => true;
  if (trust === false) return () => false;
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  const list = subnets(trust);
  return (address) => matches(list, address);
}

/** Addresses, `address/prefix` and `address/netmask` subnets, and loopback, linklocal, uniquelocal; throws on others. */
function subnets(entries: string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const named = NAMED_RANGES[entry];
    if (named) {
      for (const [network, prefix] of named) list.addSubnet(network, prefix, familyOf(network));
      continue;
    }
    const [address, range] = entry.split('/');
    const family = isIP(address);
    if (family === 0)
      throw new Error(`"${entry}" is not an address, a subnet or one of loopback, linklocal, uniquelocal`);
    if (range === undefined) list.addAddress(address, familyOf(address));
    else list.addSubnet(address, isIP(range) === 4 ? prefixOfNetmask(range) : Number(range), familyOf(address));
  }
  return list;
}

function matches(list: BlockList, address: string): boolean {
  const plain = withoutIpv4Mapping(address);
  const family = isIP(plain);
  return family !== 0 && list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
}

/** `::ffff:127.0.0.1` (an IPv4 client on a dual-stack socket) is checked as 127.0.0.1. */
function withoutIpv4Mapping(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1] : address;
}

function familyOf(address: string): 'ipv4' | 'ipv6' {
  return isIP(address) === 4 ? 'ipv4' : 'ipv6';
}

function prefixOfNetmask(netmask: string): number {
  return netmask
    .split('.')
    .map((octet) => Number(octet).toString(2).replace(/0/g, '').length)
    .reduce((sum, bits) => sum + bits, 0);
}

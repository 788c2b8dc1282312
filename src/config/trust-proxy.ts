import { isIP } from 'node:net';

/** Express's `trust proxy` value: trust all, none, the nearest n hops, or these addresses and subnets. */
export type TrustProxy = boolean | number | string[];

const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * Reads `Web__TrustProxy` as Express reads its `trust proxy` setting: `true`/`false`, a hop count,
 * or a comma-separated list of addresses, `address/prefix` or `address/netmask` subnets and the
 * names loopback, linklocal and uniquelocal. Throws naming the part it cannot read, at start,
 * instead of Express failing on the first request.
 */
export function parseTrustProxy(text: string): TrustProxy {
  const value = text.trim();
  if (value === '' || value.toLowerCase() === 'false') return false;
  if (value.toLowerCase() === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  const entries = value.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    if (!isAddressOrSubnet(entry)) {
      throw new Error(
        `"${entry}" is not true, false, a hop count, an address, a subnet or one of ${[...NAMED_RANGES].join(', ')}`,
      );
    }
  }
  return entries;
}

function isAddressOrSubnet(entry: string): boolean {
  if (NAMED_RANGES.has(entry)) return true;
  const [address, range, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (range === undefined) return true;
  if (/^\d{1,3}$/.test(range)) return Number(range) <= (family === 4 ? 32 : 128);
  return family === 4 && isIP(range) === 4;
}

import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has (node:dns `lookup`, the resolver the OS would use). */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: HostResolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));

const nonPublicRanges: { network: string; prefix: number; family: 'ipv4' | 'ipv6'; what: string }[] = [
  { network: '0.0.0.0', prefix: 8, family: 'ipv4', what: '"this network"' },
  { network: '10.0.0.0', prefix: 8, family: 'ipv4', what: 'private' },
  { network: '100.64.0.0', prefix: 10, family: 'ipv4', what: 'carrier-grade NAT' },
  { network: '127.0.0.0', prefix: 8, family: 'ipv4', what: 'loopback' },
  { network: '169.254.0.0', prefix: 16, family: 'ipv4', what: 'link-local (cloud metadata)' },
  { network: '172.16.0.0', prefix: 12, family: 'ipv4', what: 'private' },
  { network: '192.0.0.0', prefix: 24, family: 'ipv4', what: 'IETF protocol assignment' },
  { network: '192.168.0.0', prefix: 16, family: 'ipv4', what: 'private' },
  { network: '198.18.0.0', prefix: 15, family: 'ipv4', what: 'benchmarking' },
  { network: '224.0.0.0', prefix: 4, family: 'ipv4', what: 'multicast' },
  { network: '240.0.0.0', prefix: 4, family: 'ipv4', what: 'reserved' },
  { network: '::', prefix: 128, family: 'ipv6', what: 'unspecified' },
  { network: '::1', prefix: 128, family: 'ipv6', what: 'loopback' },
  { network: '64:ff9b::', prefix: 96, family: 'ipv6', what: 'NAT64' },
  { network: 'fc00::', prefix: 7, family: 'ipv6', what: 'unique-local' },
  { network: 'fe80::', prefix: 10, family: 'ipv6', what: 'link-local' },
  { network: 'ff00::', prefix: 8, family: 'ipv6', what: 'multicast' },
];

// One list per range so a refusal can say which kind of address it was. IPv4 rules also match the
// IPv4-mapped IPv6 form (::ffff:10.0.0.1, ::ffff:a00:1), which is how such targets try to slip through.
const blockLists = nonPublicRanges.map((range) => {
  const list = new BlockList();
  list.addSubnet(range.network, range.prefix, range.family);
  return { list, what: range.what };
});

/** Why an address is not on the public internet, or null when it is. */
export function nonPublicAddressKind(address: string): string | null {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  for (const { list, what } of blockLists) {
    if (list.check(address, family === 6 ? 'ipv6' : 'ipv4')) return what;
  }
  return null;
}

export type TargetResolution =
  | { ok: true; address: ResolvedAddress }
  | { ok: false; error: string; permanent: boolean };

/**
 * The address to connect to for `hostname`, checked once. The caller must connect to exactly this
 * address (not re-resolve the name), or a rebinding DNS server could answer differently the second time.
 */
export async function resolveWebhookHost(
  hostname: string,
  options: { allowPrivate: boolean; resolve?: HostResolver },
): Promise<TargetResolution> {
  const bare = hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: ResolvedAddress[];
  if (isIP(bare)) {
    addresses = [{ address: bare, family: isIP(bare) === 6 ? 6 : 4 }];
  } else {
    try {
      addresses = await (options.resolve ?? systemResolver)(bare);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return { ok: false, error: `cannot resolve ${bare}: ${code ?? (error as Error).message}`, permanent: false };
    }
    if (addresses.length === 0) return { ok: false, error: `cannot resolve ${bare}: no addresses`, permanent: false };
  }
  if (!options.allowPrivate) {
    for (const { address } of addresses) {
      const kind = nonPublicAddressKind(address);
      if (kind) {
        return {
          ok: false,
          error: `webhook target refused: ${bare} resolves to ${kind} address ${address} (WEBHOOK_ALLOW_PRIVATE is off)`,
          permanent: true,
        };
      }
    }
  }
  return { ok: true, address: addresses[0]! };
}

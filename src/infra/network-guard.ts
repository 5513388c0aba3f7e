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

/** Which non-public addresses webhook targets may have. Public addresses are always allowed. */
export interface WebhookNetworkPolicy {
  /** Every non-public address, loopback and cloud metadata included (WEBHOOK_ALLOW_PRIVATE). */
  allowPrivate: boolean;
  /** Loopback only (WEBHOOK_ALLOW_LOOPBACK): a receiver on the same machine, as in development. */
  allowLoopback: boolean;
}

export const PUBLIC_ONLY: WebhookNetworkPolicy = { allowPrivate: false, allowLoopback: false };

interface NonPublicRange {
  network: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
  kind: string;
}

// Instance metadata endpoints hand out cloud credentials; named apart from their ranges so a refusal says so.
const cloudMetadataAddresses: { address: string; family: 'ipv4' | 'ipv6' }[] = [
  { address: '169.254.169.254', family: 'ipv4' },
  { address: '169.254.170.2', family: 'ipv4' },
  { address: '100.100.100.200', family: 'ipv4' },
  { address: 'fd00:ec2::254', family: 'ipv6' },
];
const cloudMetadataNames = /^(metadata\.google\.internal|metadata\.goog|metadata|instance-data(\.ec2\.internal)?)\.?$/i;

const LOOPBACK = 'loopback';
const nonPublicRanges: NonPublicRange[] = [
  { network: '127.0.0.0', prefix: 8, family: 'ipv4', kind: LOOPBACK },
  { network: '::1', prefix: 128, family: 'ipv6', kind: LOOPBACK },
  { network: '0.0.0.0', prefix: 8, family: 'ipv4', kind: '"this network"' },
  { network: '10.0.0.0', prefix: 8, family: 'ipv4', kind: 'private' },
  { network: '100.64.0.0', prefix: 10, family: 'ipv4', kind: 'carrier-grade NAT' },
  { network: '169.254.0.0', prefix: 16, family: 'ipv4', kind: 'link-local' },
  { network: '172.16.0.0', prefix: 12, family: 'ipv4', kind: 'private' },
  { network: '192.0.0.0', prefix: 24, family: 'ipv4', kind: 'IETF protocol assignment' },
  { network: '192.0.2.0', prefix: 24, family: 'ipv4', kind: 'documentation' },
  { network: '192.88.99.0', prefix: 24, family: 'ipv4', kind: '6to4 relay' },
  { network: '192.168.0.0', prefix: 16, family: 'ipv4', kind: 'private' },
  { network: '198.18.0.0', prefix: 15, family: 'ipv4', kind: 'benchmarking' },
  { network: '198.51.100.0', prefix: 24, family: 'ipv4', kind: 'documentation' },
  { network: '203.0.113.0', prefix: 24, family: 'ipv4', kind: 'documentation' },
  { network: '224.0.0.0', prefix: 4, family: 'ipv4', kind: 'multicast' },
  { network: '240.0.0.0', prefix: 4, family: 'ipv4', kind: 'reserved' },
  { network: '::', prefix: 128, family: 'ipv6', kind: 'unspecified' },
  // ::a.b.c.d and the translation and tunnel prefixes below carry an IPv4 address inside; none is a webhook's home.
  { network: '::', prefix: 96, family: 'ipv6', kind: 'IPv4-compatible' },
  { network: '64:ff9b::', prefix: 96, family: 'ipv6', kind: 'NAT64' },
  { network: '64:ff9b:1::', prefix: 48, family: 'ipv6', kind: 'NAT64' },
  { network: '100::', prefix: 64, family: 'ipv6', kind: 'discard-only' },
  { network: '2001::', prefix: 23, family: 'ipv6', kind: 'IETF protocol assignment' },
  { network: '2001:db8::', prefix: 32, family: 'ipv6', kind: 'documentation' },
  { network: '2002::', prefix: 16, family: 'ipv6', kind: '6to4' },
  { network: 'fc00::', prefix: 7, family: 'ipv6', kind: 'unique-local' },
  { network: 'fe80::', prefix: 10, family: 'ipv6', kind: 'link-local' },
  { network: 'fec0::', prefix: 10, family: 'ipv6', kind: 'site-local' },
  { network: 'ff00::', prefix: 8, family: 'ipv6', kind: 'multicast' },
];

// One list per kind so a refusal can say which kind of address it was. IPv4 rules also match the IPv4-mapped
// IPv6 form (::ffff:10.0.0.1, ::ffff:a00:1), which is how such targets try to slip through.
const cloudMetadataList = new BlockList();
for (const { address, family } of cloudMetadataAddresses) cloudMetadataList.addAddress(address, family);
const blockLists = nonPublicRanges.map((range) => {
  const list = new BlockList();
  list.addSubnet(range.network, range.prefix, range.family);
  return { list, kind: range.kind };
});

/** Why an address is not on the public internet, or null when it is. */
export function nonPublicAddressKind(address: string): string | null {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  const type = family === 6 ? 'ipv6' : 'ipv4';
  if (cloudMetadataList.check(address, type)) return 'cloud metadata';
  for (const { list, kind } of blockLists) {
    if (list.check(address, type)) return kind;
  }
  return null;
}

function allowedBy(policy: WebhookNetworkPolicy, kind: string): boolean {
  return policy.allowPrivate || (kind === LOOPBACK && policy.allowLoopback);
}

const settingFor = (kind: string) => (kind === LOOPBACK ? 'WEBHOOK_ALLOW_LOOPBACK' : 'WEBHOOK_ALLOW_PRIVATE');

export type TargetResolution =
  | { ok: true; address: ResolvedAddress }
  | { ok: false; error: string; permanent: boolean };

/**
 * The address to connect to for `hostname`, checked once. The caller must connect to exactly this
 * address (not re-resolve the name), or a rebinding DNS server could answer differently the second time.
 */
export async function resolveWebhookHost(
  hostname: string,
  options: { policy: WebhookNetworkPolicy; resolve?: HostResolver },
): Promise<TargetResolution> {
  const bare = hostname.replace(/^\[(.*)\]$/, '$1');
  const literal = isIP(bare);
  if (literal) {
    const kind = nonPublicAddressKind(bare);
    if (kind && !allowedBy(options.policy, kind)) {
      return { ok: false, error: `webhook target refused: ${bare} is a non-public address (${kind}; ${settingFor(kind)} is off)`, permanent: true };
    }
    return { ok: true, address: { address: bare, family: literal === 6 ? 6 : 4 } };
  }
  if (cloudMetadataNames.test(bare) && !options.policy.allowPrivate) {
    return { ok: false, error: `webhook target refused: ${bare} is a cloud metadata service (WEBHOOK_ALLOW_PRIVATE is off)`, permanent: true };
  }
  let addresses: ResolvedAddress[];
  try {
    addresses = await (options.resolve ?? systemResolver)(bare);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { ok: false, error: `cannot resolve ${bare}${code ? ` (${code})` : ''}`, permanent: false };
  }
  if (addresses.length === 0) return { ok: false, error: `cannot resolve ${bare} (no addresses)`, permanent: false };
  for (const { address } of addresses) {
    const kind = nonPublicAddressKind(address);
    if (kind && !allowedBy(options.policy, kind)) {
      return {
        ok: false,
        error: `webhook target refused: ${bare} resolves to ${address}, a non-public address (${kind}; ${settingFor(kind)} is off)`,
        permanent: true,
      };
    }
  }
  return { ok: true, address: addresses[0]! };
}

/**
 * Why a webhook URL may not be a flow's target, checked when the flow is edited: null when it may, or when its
 * name does not resolve yet (the check made at every send is the one that counts, since DNS answers can change).
 */
export async function webhookTargetRefusal(
  url: string,
  options: { policy: WebhookNetworkPolicy; resolve?: HostResolver; timeoutMs?: number },
): Promise<string | null> {
  const deadline = AbortSignal.timeout(options.timeoutMs ?? 2000);
  const resolution = await untilAborted(resolveWebhookHost(new URL(url).hostname, options), deadline);
  return resolution && !resolution.ok && resolution.permanent ? resolution.error : null;
}

/** The work's result, or null once `signal` aborts first. */
export async function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T | null> {
  if (signal.aborted) return null;
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<null>((resolve) => {
    onAbort = () => resolve(null);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

// Which notification URLs the functions may send to: https only, never to private, loopback, link-local, CGNAT, ULA or metadata addresses.
import { BlockList, isIP } from 'node:net';

export interface UrlPolicy {
  /** The local stack: http and loopback addresses are allowed (NIGHTSHIFT_ALLOW_LOOPBACK_SINKS). */
  allowLoopback: boolean;
}

/** Addresses a request from our functions must never reach: the owner's network, the VM's metadata server, and so on. */
const BLOCKED = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // CGNAT
  ['169.254.0.0', 16], // link-local, and the metadata server 169.254.169.254
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and broadcast
] as const) {
  BLOCKED.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['64:ff9b::', 96], // NAT64 reaches IPv4 addresses, private ones too
  ['fc00::', 7], // unique local (ULA)
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
  ['fd00:ec2::', 32], // AWS's IPv6 metadata (within ULA, named for the record)
] as const) {
  BLOCKED.addSubnet(net, prefix, 'ipv6');
}
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** Host names that are internal whatever they resolve to. */
const INTERNAL_NAMES = [
  /^localhost$/i,
  /\.localhost$/i,
  /^metadata$/i,
  /^metadata\.google\.internal$/i,
  /\.internal$/i,
];

/** An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) is checked as the IPv4 address it carries. */
function unmapped(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return { address: mapped[1], family: 'ipv4' };
  return { address, family: isIP(address) === 6 ? 'ipv6' : 'ipv4' };
}

/** Why an address may not be sent to, or null when it may. */
export function addressRefusal(raw: string, policy: UrlPolicy): string | null {
  const { address, family } = unmapped(raw);
  if (LOOPBACK.check(address, family)) {
    return policy.allowLoopback ? null : `${raw} is a loopback address`;
  }
  if (BLOCKED.check(address, family)) return `${raw} is a private, link-local or reserved address`;
  return null;
}

/** Why a sink URL is refused, or null. Checks what the URL says; the address it resolves to is checked when sending. */
export function urlRefusal(raw: string, policy: UrlPolicy): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'expected an absolute URL';
  }
  if (url.username || url.password) return 'credentials in the URL are not allowed';
  // A trailing dot names the same host (`localhost.`): checked without it.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  const literal = isIP(host) !== 0;
  const loopbackHost =
    (literal && LOOPBACK.check(unmapped(host).address, unmapped(host).family)) || /^localhost$/i.test(host);
  if (url.protocol === 'http:') {
    if (!(policy.allowLoopback && loopbackHost)) {
      return 'expected an https URL (http is allowed only for loopback in the local stack)';
    }
  } else if (url.protocol !== 'https:') {
    return `expected an https URL, not ${url.protocol}`;
  }
  if (literal) return addressRefusal(host, policy);
  if (loopbackHost) return policy.allowLoopback ? null : `${host} is a loopback host`;
  if (INTERNAL_NAMES.some((name) => name.test(host))) return `${host} is an internal host name`;
  if (!host.includes('.')) return `${host} is not a public host name (no dot)`;
  return null;
}

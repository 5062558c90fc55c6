import { BlockList, isIPv6 } from 'node:net';

/**
 * Matches the TCP peer against the configured trusted proxies (IPs or CIDRs). With none configured nothing
 * is trusted: client-sent forwarding headers are always replaced.
 */
export function trustedPeers(entries: readonly string[]): (address: string | undefined) => boolean {
  if (entries.length === 0) return () => false;
  const list = new BlockList();
  for (const e of entries) {
    const [ip = '', bits] = e.split('/');
    const family = isIPv6(ip) ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(ip, family);
    else list.addSubnet(ip, Number(bits), family);
  }
  return (address) => {
    if (!address) return false;
    const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
    return list.check(v4, isIPv6(v4) ? 'ipv6' : 'ipv4');
  };
}

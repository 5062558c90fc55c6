/** 127.0.0.0/8 in dotted decimal, each octet 0–255 without leading zeros. */
const IPV4_LOOPBACK = /^127(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/**
 * True for a name that can only mean this machine: `localhost`, `::1` (bare, as a bind address, or bracketed,
 * as in a URL or a Host header) and 127.0.0.0/8. The one loopback test behind the ingress's local mode, the
 * token API's bind address and its Host check, so the three cannot drift apart.
 */
export function isLoopbackName(name: string): boolean {
  const h = name.toLowerCase();
  return h === 'localhost' || h === '::1' || h === '[::1]' || IPV4_LOOPBACK.test(h);
}

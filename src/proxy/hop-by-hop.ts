/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection, not the message: a proxy must not pass them
 * on in either direction, nor any header the sender named in its own `Connection` header.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  // Node answers `Expect: 100-continue` itself; the app gets the body as it arrives.
  'expect',
]);

/** Whether a lower-case header name is hop-by-hop. */
export function isHopByHop(name: string): boolean {
  return HOP_BY_HOP.has(name);
}

/**
 * The extra names a `Connection` header lists (lower-case), e.g. `Connection: close, X-Foo` → {x-foo}.
 * `close` and `keep-alive` are connection options, not header names; undefined when nothing else is listed.
 */
export function connectionListed(connection: string | string[] | undefined): Set<string> | undefined {
  if (connection === undefined) return undefined;
  const raw = Array.isArray(connection) ? connection.join(',') : connection;
  let out: Set<string> | undefined;
  for (const token of raw.split(',')) {
    const name = token.trim().toLowerCase();
    if (name === '' || name === 'close' || name === 'keep-alive') continue;
    (out ??= new Set()).add(name);
  }
  return out;
}

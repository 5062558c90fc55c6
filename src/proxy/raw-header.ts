/** A raw header value as text: undici hands them as Buffers (bytes as latin1, as HTTP has them), node:http as strings. */
export function latin1(x: Buffer | string | undefined): string {
  return x === undefined ? '' : typeof x === 'string' ? x : x.toString('latin1');
}

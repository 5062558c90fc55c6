/**
 * Cache-Control directives that let a shared cache (CDN, corporate proxy) keep an answer, dropped when the
 * answer carries our Set-Cookie; `private` is dropped too and re-added unqualified (`private="set-cookie"`
 * would let a shared cache keep the rest of the answer).
 */
const SHARED = new Set(['public', 's-maxage', 'private']);

/**
 * Headers that speak to shared caches over the head of Cache-Control (RFC 9213 `CDN-Cache-Control` and its
 * vendor forms such as `Cloudflare-CDN-Cache-Control`, Akamai's `Edge-Control`, `Surrogate-Control`): a CDN
 * obeys them even when Cache-Control says private, so they are dropped from an answer carrying our cookie.
 */
function speaksToSharedCaches(lowerName: string): boolean {
  return lowerName.endsWith('cdn-cache-control') || lowerName === 'surrogate-control' || lowerName === 'edge-control';
}

/**
 * An app answer that carries our own Set-Cookie (a session cookie re-issued after a key rotation) made safe
 * from shared caches: with the app's `Cache-Control: public` a CDN would hand one user's session cookie to
 * everyone asking for the same URL. `Cache-Control` becomes `private` plus the app's other directives
 * (`max-age`, `no-store`, … still govern the browser's own cache), and `Vary` gains `Cookie`. Takes and
 * returns a flat [name, value, …] list; repeated fields are merged into the first.
 */
export function privateAnswer(headers: readonly string[]): string[] {
  const out: string[] = [];
  const directives: string[] = [];
  const varied: string[] = [];
  let cacheControlAt = -1;
  let varyAt = -1;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i] ?? '';
    const value = headers[i + 1] ?? '';
    const lower = name.toLowerCase();
    if (lower === 'cache-control') {
      if (cacheControlAt === -1) cacheControlAt = out.push(name, '') - 1;
      directives.push(...splitList(value));
    } else if (lower === 'vary') {
      if (varyAt === -1) varyAt = out.push(name, '') - 1;
      varied.push(...splitList(value));
    } else if (!speaksToSharedCaches(lower)) out.push(name, value);
  }
  const cacheControl = ['private', ...directives.filter((d) => !SHARED.has(directiveName(d)))].join(', ');
  if (cacheControlAt === -1) out.push('cache-control', cacheControl);
  else out[cacheControlAt] = cacheControl;
  // `Vary: *` already keeps every cache from reusing the answer.
  if (!varied.some((v) => v === '*' || v.toLowerCase() === 'cookie')) varied.push('Cookie');
  if (varyAt === -1) out.push('vary', varied.join(', '));
  else out[varyAt] = varied.join(', ');
  return out;
}

function directiveName(directive: string): string {
  const eq = directive.indexOf('=');
  return (eq === -1 ? directive : directive.slice(0, eq)).trim().toLowerCase();
}

/** The members of a comma-separated header list, commas inside quoted strings kept (`no-cache="a, b"`). */
function splitList(value: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  let escaped = false;
  for (const ch of value) {
    if (escaped) escaped = false;
    else if (quoted && ch === '\\') escaped = true;
    else if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) {
      out.push(current.trim());
      current = '';
      continue;
    }
    current += ch;
  }
  out.push(current.trim());
  return out.filter((m) => m !== '');
}

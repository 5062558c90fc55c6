/**
 * Raw `Cookie` request-header handling for the proxy path: dropping vestibule's own cookies before the request
 * goes upstream, and reading every value of one cookie.
 *
 * Forwarding the sidecar's cookies leaks sealed session material to the app and pushes requests over upstream
 * header limits (peers.md §3 theme 1, oauth2-proxy #388); mod_auth_openidc's cookie stripper crashed on a
 * crafted header (CVE-2023-28625) and its parser on a token without `=` (CVE-2026-54789). So both functions
 * work on the raw header text, accept any garbage without throwing, and never re-encode what they keep.
 *
 * Pure: no I/O, no module-level state.
 */

type CookieHeader = string | readonly string[] | undefined;

const SPACE = 0x20;
const TAB = 0x09;

/** Trims only the optional whitespace of the header grammar (SP / HTAB), so kept pairs stay byte-for-byte. */
function trimOws(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isOws(text.charCodeAt(start))) start++;
  while (end > start && isOws(text.charCodeAt(end - 1))) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

function isOws(code: number): boolean {
  return code === SPACE || code === TAB;
}

/** The cookie name of one `name=value` pair; a pair without `=` is taken to be all name (as Go's parser does). */
function pairName(pair: string): string {
  const eq = pair.indexOf('=');
  return trimOws(eq === -1 ? pair : pair.slice(0, eq));
}

/**
 * The browser-enforced name prefixes. Browsers match them case-insensitively (RFC 6265bis), so `__host-` is
 * stripped too: whatever a browser may treat as one of our prefixed cookies never reaches the app.
 */
const NAME_PREFIXES = ['__host-', '__secure-'];

function isOurs(name: string, prefix: string): boolean {
  if (name.startsWith('__')) {
    const lower = name.toLowerCase();
    for (const p of NAME_PREFIXES) {
      if (lower.startsWith(p)) return isOurs(name.slice(p.length), prefix);
    }
  }
  return name === prefix || (name.length > prefix.length && name.startsWith(prefix) && name[prefix.length] === '.');
}

/** Kept pairs of one header string, or null when nothing was removed (so the caller can keep the original). */
function keptPairs(header: string, prefix: string): string[] | null {
  const kept: string[] = [];
  let removed = false;
  for (const piece of header.split(';')) {
    const pair = trimOws(piece);
    if (pair === '') continue;
    if (isOurs(pairName(pair), prefix)) removed = true;
    else kept.push(pair);
  }
  return removed ? kept : null;
}

function isBlank(header: string): boolean {
  for (let i = 0; i < header.length; i++) {
    const code = header.charCodeAt(i);
    if (!isOws(code) && code !== 0x3b) return false;
  }
  return true;
}

/**
 * Removes vestibule's own cookies from a raw Cookie header before it is forwarded upstream, keeping every other
 * cookie pair byte-for-byte in its original order. A cookie is ours when its name equals `prefix` or starts
 * with `prefix + '.'`, after an optional `__Host-` or `__Secure-` (any case): the https names of our cookies
 * (names are otherwise case-sensitive: `Vestibule.session` and `vestibulex` are not ours). A pair
 * without `=` counts as a name, so a bare `vestibule.session` is removed too.
 *
 * Accepts one string or several (e.g. HTTP/2 sends one `cookie` header per pair); the result is one string with
 * kept pairs joined by `'; '`, or undefined when nothing remains (so the header is dropped). A single string from
 * which nothing is removed is returned unchanged (the same string), including when it does not mention the
 * prefix at all, the per-request fast path. Empty pairs, stray spaces and quotes are tolerated; never throws.
 */
export function stripCookies(header: CookieHeader, prefix: string): string | undefined {
  if (header === undefined) return undefined;
  if (typeof header === 'string') {
    if (isBlank(header)) return undefined;
    if (!header.includes(prefix)) return header;
    const kept = keptPairs(header, prefix);
    if (kept === null) return header;
    return kept.length === 0 ? undefined : kept.join('; ');
  }
  const parts: string[] = [];
  for (const value of header) {
    if (isBlank(value)) continue;
    if (!value.includes(prefix)) {
      parts.push(trimOws(value));
      continue;
    }
    const kept = keptPairs(value, prefix);
    if (kept === null) parts.push(trimOws(value));
    else if (kept.length > 0) parts.push(kept.join('; '));
  }
  return parts.length === 0 ? undefined : parts.join('; ');
}

/**
 * All values of the cookie `name` in a raw Cookie header, in order. Duplicates matter: a browser sends two
 * cookies of the same name when they differ in domain or path (e.g. a stale parent-domain cookie), and the
 * caller must try each rather than trust the first. Values are returned as sent, minus surrounding OWS and one
 * pair of surrounding double quotes (RFC 6265 allows a quoted cookie-value); they are not percent-decoded.
 * Pairs without `=` have no value and are skipped. Never throws.
 */
export function cookieValues(header: CookieHeader, name: string): string[] {
  const values: string[] = [];
  if (header === undefined || name === '') return values;
  const headers = typeof header === 'string' ? [header] : header;
  for (const value of headers) {
    if (!value.includes(name)) continue;
    for (const piece of value.split(';')) {
      const eq = piece.indexOf('=');
      if (eq === -1 || trimOws(piece.slice(0, eq)) !== name) continue;
      values.push(unquote(trimOws(piece.slice(eq + 1))));
    }
  }
  return values;
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}

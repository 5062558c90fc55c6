/**
 * Open-redirect guard for the `redirect` parameter of `/oauth2/login` and `/oauth2/logout`.
 *
 * The only acceptable target is a relative path on the app's own ingress. The rules are an allow-list
 * (printable ASCII, one leading slash, the ingress path at a segment boundary) followed by deny checks on
 * every percent-decoded form of the path, because proxies and apps downstream may decode once, twice or
 * normalise Unicode before they act on it. The peers' open-redirect advisories (oauth2-proxy
 * CVE-2020-5233, CVE-2020-11053, CVE-2020-4037; mod_auth_openidc CVE-2019-20479, CVE-2021-32786) are all
 * variations on "a browser or server saw a host where the validator saw a path".
 *
 * Pure: no I/O, no module-level mutable state. Every loop is bounded by {@link MAX_TARGET_LENGTH}.
 */

/** Longer targets are rejected, never truncated: truncation could cut a path into something else. */
export const MAX_TARGET_LENGTH = 2048;

// Each decoding round shortens the string, so this only limits how deep an attacker can nest `%25`.
// Legitimate targets are encoded at most twice; deeper nesting is treated as hostile.
const MAX_DECODE_ROUNDS = 8;

// A base whose origin can never be a real host, so any origin change is visible.
const CHECK_BASE = 'https://ingress.invalid';

// Invisible or blank characters: controls (C0, DEL, C1), format characters (zero-width, bidi, BOM),
// separators, any White_Space, default-ignorables (Hangul fillers, CGJ, ...) and the braille blank.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Z}\p{White_Space}\p{Default_Ignorable_Code_Point}\u2800]/u;

// Characters that look like, or are mapped by IDNA/NFKC to, `/`, `\` or `.`; NFKC alone misses
// several of them (U+2215 DIVISION SLASH, U+2044 FRACTION SLASH, U+3002 IDEOGRAPHIC FULL STOP).
const LOOK_ALIKES =
  /[\u2044\u2215\u2571\u2572\u29F5\u29F8\u29F9\u2216\uFF0F\uFF3C\uFE68\u3002\uFF0E\uFF61\u2024\uFE52]/u;

const PERCENT_RUN = /(?:%[0-9A-Fa-f]{2})+/g;

/**
 * Returns `raw` when it is a safe same-site relative target under `ingressPath`, else `fallback`
 * (which defaults to the ingress path itself, e.g. '/app' or '/').
 *
 * A duplicated query parameter arrives as an array and is rejected like any other non-string.
 *
 * @throws TypeError when `ingressPath` is not `/` or a clean path without trailing slash (programmer error).
 * @see https://cheatsheetseries.owasp.org/cheatsheets/Unvalidated_Redirects_and_Forwards_Cheat_Sheet.html
 */
export function resolveRedirectTarget(raw: unknown, ingressPath: string, fallback: string = ingressPath): string {
  return isSafeRedirectTarget(raw, ingressPath) ? raw : fallback;
}

/**
 * True when `raw` would be accepted as is (for tests and for re-validation at the callback).
 *
 * @throws TypeError when `ingressPath` is not `/` or a clean path without trailing slash (programmer error).
 */
export function isSafeRedirectTarget(raw: unknown, ingressPath: string): raw is string {
  assertIngressPath(ingressPath);
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > MAX_TARGET_LENGTH) return false;
  if (!isPrintableAscii(raw)) return false;

  const end = pathEnd(raw);
  const path = raw.slice(0, end);
  // `//host` and `/\host` are network-path references to browsers; backslash anywhere in the path is
  // read as a slash by WHATWG parsers and as a literal by others (CVE-2021-32786).
  if (!path.startsWith('/') || path.startsWith('//') || path.includes('\\')) return false;
  if (!isUnderIngress(path, ingressPath)) return false;
  if (!hasWellFormedPercents(path)) return false;
  if (!decodedFormsAreClean(path)) return false;

  return resolvesInsideIngress(raw, ingressPath);
}

function assertIngressPath(ingressPath: string): void {
  if (ingressPath === '/') return;
  const clean =
    ingressPath.startsWith('/') &&
    !ingressPath.endsWith('/') &&
    !ingressPath.includes('//') &&
    isPrintableAscii(ingressPath) &&
    !/[?#\\%]/.test(ingressPath) &&
    !hasBadSegments(ingressPath);
  if (!clean) {
    throw new TypeError(`Ingress path "${ingressPath}" must be "/" or a path like "/app" without trailing slash`);
  }
}

/** 0x21-0x7E only: rejects controls, every kind of space and every raw non-ASCII look-alike at once. */
function isPrintableAscii(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x21 || code > 0x7e) return false;
  }
  return true;
}

function pathEnd(value: string): number {
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '?' || c === '#') return i;
  }
  return value.length;
}

function isUnderIngress(path: string, ingressPath: string): boolean {
  if (ingressPath === '/') return path.startsWith('/');
  return path === ingressPath || path.startsWith(`${ingressPath}/`);
}

function hasWellFormedPercents(path: string): boolean {
  for (let i = 0; i < path.length; i++) {
    if (path[i] !== '%') continue;
    if (!isHex(path.charCodeAt(i + 1)) || !isHex(path.charCodeAt(i + 2))) return false;
    i += 2;
  }
  return true;
}

function isHex(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x46) || (code >= 0x61 && code <= 0x66);
}

/**
 * Checks the path as received and after each decoding round until decoding no longer changes it, so a
 * double-encoded `%252F%252F` is judged as the `//` some downstream decoder will eventually see.
 */
function decodedFormsAreClean(path: string): boolean {
  let current = path;
  for (let round = 0; round <= MAX_DECODE_ROUNDS; round++) {
    if (!isCleanPath(current)) return false;
    const decoded = decodeOnce(current);
    if (decoded === undefined) return false;
    if (decoded === current) return true;
    current = decoded;
  }
  return false;
}

function isCleanPath(path: string): boolean {
  if (LOOK_ALIKES.test(path)) return false;
  // NFKC folds compatibility forms into what they imitate: ／ to `/`, ＼ to `\`, ‥ (U+2025) to `..`.
  const folded = path.normalize('NFKC');
  for (const form of folded === path ? [path] : [path, folded]) {
    if (form.includes('//') || form.includes('\\') || hasBadSegments(form) || INVISIBLE.test(form)) return false;
  }
  return true;
}

/** `.` and `..` segments, including Tomcat-style `..;param` which servlet containers treat as `..`. */
function hasBadSegments(path: string): boolean {
  for (const segment of path.split('/')) {
    const semicolon = segment.indexOf(';');
    const name = semicolon === -1 ? segment : segment.slice(0, semicolon);
    if (name === '.' || name === '..') return true;
  }
  return false;
}

/**
 * One round of percent-decoding of well-formed `%XX` runs as UTF-8. Returns undefined for invalid UTF-8
 * (overlong `%C0%AF`, surrogates, stray continuation bytes) because lenient decoders turn those into `/`.
 * A `%` not followed by two hex digits is left alone: after the first round it is data, not an escape.
 */
function decodeOnce(value: string): string | undefined {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let decoded = '';
  let copied = 0;
  for (const match of value.matchAll(PERCENT_RUN)) {
    const run = match[0];
    const bytes = new Uint8Array(run.length / 3);
    for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(run.slice(i * 3 + 1, i * 3 + 3), 16);
    try {
      decoded += value.slice(copied, match.index) + decoder.decode(bytes);
    } catch {
      return undefined;
    }
    copied = match.index + run.length;
  }
  return decoded + value.slice(copied);
}

/** Belt and braces: the WHATWG parser, as a browser would resolve the Location header, must agree. */
function resolvesInsideIngress(raw: string, ingressPath: string): boolean {
  let url: URL;
  try {
    url = new URL(raw, CHECK_BASE);
  } catch {
    return false;
  }
  return url.origin === CHECK_BASE && isUnderIngress(url.pathname, ingressPath);
}

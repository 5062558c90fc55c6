/**
 * Canonical request paths and the glob matcher for path policies (auto-login ignore paths and the like).
 *
 * Skip-route bypasses in the peers (oauth2-proxy CVE-2025-54576, GHSA-pxq7-h93f-9jrg, Pomerium
 * CVE-2021-39206; peers.md §4.4) all come from matching one spelling of a path while the upstream serves
 * another. So matching happens only on a canonical form, and any spelling whose meaning upstreams disagree on
 * (encoded slashes, `..;`, a `..` next to an empty segment …) has no canonical form at all: callers treat
 * `null` as "never exempt, always protected".
 *
 * Pure and linear-time: no regular expressions, no module-level state, one pass per path.
 */

const HASH = 0x23;
const SLASH = 0x2f;
const DOT = 0x2e;
const PERCENT = 0x25;
const SEMICOLON = 0x3b;
const BACKSLASH = 0x5c;
const HEX_DIGITS = '0123456789ABCDEF';

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

function isAlphaNum(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

/** RFC 3986 unreserved: ALPHA / DIGIT / "-" / "." / "_" / "~". */
function isUnreserved(code: number): boolean {
  return isAlphaNum(code) || code === 0x2d || code === DOT || code === 0x5f || code === 0x7e;
}

/** pchar that stays raw in canonical form: unreserved, sub-delims except ";" (parameters), ":" and "@". */
function staysRaw(code: number): boolean {
  if (isUnreserved(code)) return true;
  switch (code) {
    case 0x21: // !
    case 0x24: // $
    case 0x26: // &
    case 0x27: // '
    case 0x28: // (
    case 0x29: // )
    case 0x2a: // *
    case 0x2b: // +
    case 0x2c: // ,
    case 0x3d: // =
    case 0x3a: // :
    case 0x40: // @
      return true;
    default:
      return false;
  }
}

function percentEncode(byte: number): string {
  return '%' + HEX_DIGITS.charAt(byte >> 4) + HEX_DIGITS.charAt(byte & 15);
}

/**
 * Canonical form of a request path for policy matching, or null when the path is ambiguous and must be treated
 * conservatively (a null path is NEVER exempt from login and ALWAYS counts as protected).
 *
 * Input is the path part of the raw request target (the caller cuts the query at the first `?`; a `#` is kept
 * as part of the path). The canonical form:
 * - starts with `/`, has no empty segments (`//a///b` → `/a/b`) and no trailing slash except for the root;
 * - has `;` path parameters removed from every segment (`/a;jsessionid=1/b` → `/a/b`, Tomcat/Spring semantics);
 * - has percent-encoded unreserved characters decoded once (`%2e%2e` → `..`, `%41` → `A`) and every other
 *   escape upper-cased (`%c3%a6` → `%C3%A6`); raw characters that are not pchar (`"#<>[]^{|}` and the backtick)
 *   are percent-encoded, so `/a|b` and `/a%7cb` compare equal;
 * - has dot segments removed per RFC 3986 §5.2.4 (`/a/./b/../c` → `/a/c`; climbing above the root stays at `/`);
 * - keeps its case (paths are case-sensitive; protection rules fold case when matching, see
 *   {@link PathGlobOptions.caseInsensitive}).
 *
 * Null for: no leading `/`; a raw backslash, space, control or non-ASCII character; a malformed `%` escape;
 * `%2F`, `%5C` or `%00` anywhere; a dot segment carrying parameters (`..;x`, which Tomcat resolves but most
 * servers treat as a name); and a `..` preceded by an empty or parameter-only segment (`/a//../b`,
 * `/a/;/../b`), where servers that keep empty segments pop a different segment than we would.
 */
export function normalizePath(rawPath: string): string | null {
  if (rawPath.charCodeAt(0) !== SLASH) return null;
  return isAlreadyCanonical(rawPath) ? rawPath : normalizeSlowly(rawPath);
}

/** The common case: only raw-safe characters, no `//`, no segment starting with `.`, no trailing slash. */
function isAlreadyCanonical(path: string): boolean {
  let previous = SLASH;
  for (let i = 1; i < path.length; i++) {
    const code = path.charCodeAt(i);
    if (code === SLASH || code === DOT) {
      if (previous === SLASH) return false;
    } else if (!staysRaw(code)) {
      return false;
    }
    previous = code;
  }
  return path.length === 1 || previous !== SLASH;
}

function normalizeSlowly(raw: string): string | null {
  const output: string[] = [];
  let emptyBefore = false;
  let i = 1;
  for (;;) {
    let segment = '';
    let hasParameters = false;
    for (; i < raw.length; i++) {
      const code = raw.charCodeAt(i);
      if (code === SLASH) break;
      if (code === PERCENT) {
        const high = hexValue(raw.charCodeAt(i + 1));
        const low = hexValue(raw.charCodeAt(i + 2));
        if (high < 0 || low < 0) return null;
        const byte = high * 16 + low;
        if (byte === SLASH || byte === BACKSLASH || byte === 0) return null;
        if (!hasParameters) segment += isUnreserved(byte) ? String.fromCharCode(byte) : percentEncode(byte);
        i += 2;
      } else if (code <= 0x20 || code >= 0x7f || code === BACKSLASH || code === HASH) {
        // A raw '#' is where a router cuts the path (a fragment): no canonical form, so every rule matches it.
        return null;
      } else if (code === SEMICOLON) {
        hasParameters = true;
      } else if (!hasParameters) {
        // Parameters are dropped, but validated above like the rest of the path.
        segment += staysRaw(code) ? raw.charAt(i) : percentEncode(code);
      }
    }
    const last = i >= raw.length;
    if (segment === '') {
      if (!last) emptyBefore = true;
    } else if (segment === '.' || segment === '..') {
      if (hasParameters) return null;
      if (segment === '..') {
        if (emptyBefore) return null;
        output.pop();
      }
    } else {
      output.push(segment);
    }
    if (last) break;
    i++;
  }
  return '/' + output.join('/');
}

type SegmentPattern =
  | { readonly kind: 'globstar' }
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'wildcard'; readonly parts: readonly string[]; readonly minLength: number };

/** Brace alternatives expand into separate patterns; this caps `{a,b}{c,d}…` blow-ups at start-up. */
const MAX_EXPANSIONS = 256;
/** Bounds the brace-expansion recursion; real ignore patterns are a few dozen characters. */
const MAX_PATTERN_LENGTH = 1024;

/**
 * Compiles glob patterns (Wonderwall/doublestar semantics, applied to canonical paths) into one matcher.
 *
 * - `*` matches any characters within ONE segment, including none (`/any*` matches `/any` and `/anything`;
 *   `/*` matches `/` like doublestar does); a percent-escape is never split.
 * - `**` as a whole segment matches zero or more segments: `/static/**` matches `/static` and everything
 *   below it, `/static/**` + `/*.js` matches `/static/a.js` and `/static/x/y/a.js`; `**` inside a segment
 *   acts like `*` (doublestar).
 * - `{a,b}` alternatives (nesting allowed) and `\` escapes work as in doublestar; `?` and `[…]` are rejected.
 * - Literal text is canonicalised like {@link normalizePath} (`%7e` → `~`, `é` → `%C3%A9`, space → `%20`),
 *   and a trailing slash is ignored.
 *
 * Invalid patterns throw a TypeError naming the pattern: not starting with `/`, empty or dot segments, `;`,
 * encoded slash/backslash/NUL, bad escapes, unbalanced braces, unsupported syntax. Patterns without wildcards
 * are looked up in a Set; the rest are matched segment by segment in O(segments × pattern segments).
 * The returned matcher takes an already-normalised path; null never matches. Case is significant unless
 * `options.caseInsensitive` (protection rules only).
 */
export function compilePathGlobs(
  patterns: readonly string[],
  options: PathGlobOptions = {},
): (normalizedPath: string | null) => boolean {
  const fold = options.caseInsensitive === true ? foldCase : (text: string): string => text;
  const exact = new Set<string>();
  const globs: (readonly SegmentPattern[])[] = [];
  for (const pattern of patterns) {
    if (typeof pattern !== 'string') throw new TypeError(`Invalid path pattern ${String(pattern)}: not a string`);
    if (pattern.length > MAX_PATTERN_LENGTH) throw invalid(pattern, `longer than ${MAX_PATTERN_LENGTH} characters`);
    for (const expanded of expandBraces(pattern)) {
      const compiled = compilePattern(expanded, pattern).map((segment) => foldSegment(segment, fold));
      const literals = compiled.map((segment) => (segment.kind === 'literal' ? segment.text : null));
      if (literals.every((text) => text !== null)) exact.add('/' + literals.join('/'));
      else globs.push(compiled);
    }
  }
  return (normalizedPath) => {
    if (normalizedPath === null) return false;
    const path = fold(normalizedPath);
    if (exact.has(path)) return true;
    if (globs.length === 0) return false;
    const segments = path.slice(1).split('/');
    return globs.some((glob) => matchSegments(glob, segments));
  };
}

export interface PathGlobOptions {
  /**
   * Match letters in any case (`/api/**` also matches `/API/x`, `/%41pi/x`): for rules that PROTECT a path
   * (VESTIBULE_REQUIRE_TOKEN_PATHS), where a looser match is the safe direction, since Express, ASP.NET and
   * Spring (optionally) route `/API/x` to the handler of `/api/x`. Never for rules that EXEMPT a path (auto-login
   * ignore paths): there a looser match would exempt paths the operator did not name, so they match the exact
   * case of the canonical path (the default).
   */
  readonly caseInsensitive?: boolean;
}

/**
 * Escaped characters outside ASCII that some routers fold to an ASCII letter when they ignore case (Java's
 * `equalsIgnoreCase`, Unicode case folding, .NET's culture-aware comparisons): long s (U+017F), Kelvin sign
 * (U+212A), dotted and dotless I (U+0130, U+0131). Folded here too, so they can only add protection.
 */
const NON_ASCII_FOLDS: readonly (readonly [string, string])[] = [
  ['%c5%bf', 's'],
  ['%e2%84%aa', 'k'],
  ['%c4%b0', 'i'],
  ['%c4%b1', 'i'],
];

/**
 * The case-folded form of a canonical path or pattern text. Canonical text is ASCII only (everything else is
 * percent-encoded), so lower-casing folds ASCII letters and the hex digits of escapes alike on both sides.
 */
function foldCase(text: string): string {
  let folded = text.toLowerCase();
  if (folded.includes('%')) for (const [escape, letter] of NON_ASCII_FOLDS) folded = folded.replaceAll(escape, letter);
  return folded;
}

function foldSegment(segment: SegmentPattern, fold: (text: string) => string): SegmentPattern {
  switch (segment.kind) {
    case 'globstar':
      return segment;
    case 'literal':
      return { kind: 'literal', text: fold(segment.text) };
    case 'wildcard': {
      const parts = segment.parts.map(fold);
      return { kind: 'wildcard', parts, minLength: parts.reduce((sum, part) => sum + part.length, 0) };
    }
  }
}

function invalid(pattern: string, reason: string): TypeError {
  return new TypeError(`Invalid path pattern ${JSON.stringify(pattern)}: ${reason}`);
}

/** Expands `{a,b}` alternatives (escapes preserved) into plain patterns. */
function expandBraces(pattern: string): string[] {
  const results: string[] = [];
  const expand = (text: string): void => {
    let open = -1;
    let depth = 0;
    const commas: number[] = [];
    for (let i = 0; i < text.length; i++) {
      const c = text.charAt(i);
      if (c === '\\') {
        i++;
      } else if (c === '{') {
        if (depth === 0) open = i;
        depth++;
      } else if (c === '}') {
        if (depth === 0) throw invalid(pattern, 'unbalanced "}"');
        depth--;
        if (depth === 0) {
          const prefix = text.slice(0, open);
          const suffix = text.slice(i + 1);
          let start = open + 1;
          for (const comma of [...commas, i]) {
            expand(prefix + text.slice(start, comma) + suffix);
            start = comma + 1;
          }
          return;
        }
      } else if (c === ',' && depth === 1) {
        commas.push(i);
      }
    }
    if (depth !== 0) throw invalid(pattern, 'unbalanced "{"');
    if (results.length >= MAX_EXPANSIONS) throw invalid(pattern, `more than ${MAX_EXPANSIONS} brace expansions`);
    results.push(text);
  };
  expand(pattern);
  return results;
}

function compilePattern(expanded: string, pattern: string): SegmentPattern[] {
  if (expanded.charCodeAt(0) !== SLASH) throw invalid(pattern, 'must start with "/"');
  let body = expanded.slice(1);
  // `/a/` means `/a`; `//` is an empty segment, not the root.
  if (body.length > 1 && body.endsWith('/') && !body.endsWith('\\/')) body = body.slice(0, -1);
  if (body === '') return [{ kind: 'literal', text: '' }];

  const segments: SegmentPattern[] = [];
  let parts: string[] = [''];
  let stars = 0;
  let escaped = false;
  for (let i = 0; i <= body.length; i++) {
    const code = body.charCodeAt(i);
    if (i === body.length || (code === SLASH && !escaped)) {
      segments.push(finishSegment(parts, stars, pattern));
      parts = [''];
      stars = 0;
      continue;
    }
    if (!escaped) {
      if (code === BACKSLASH) {
        escaped = true;
        if (i + 1 === body.length) throw invalid(pattern, 'ends with an escape');
        continue;
      }
      if (code === 0x2a) {
        stars++;
        if (parts[parts.length - 1] !== '' || parts.length === 1) parts.push('');
        continue;
      }
      if (code === 0x3f || code === 0x5b || code === 0x5d) {
        throw invalid(pattern, `"${body.charAt(i)}" is not supported`);
      }
      if (code === PERCENT) {
        const high = hexValue(body.charCodeAt(i + 1));
        const low = hexValue(body.charCodeAt(i + 2));
        if (high < 0 || low < 0) throw invalid(pattern, 'malformed percent-escape');
        const byte = high * 16 + low;
        if (byte === SLASH || byte === BACKSLASH || byte === 0) throw invalid(pattern, 'encoded "/", "\\" or NUL');
        appendToLast(parts, isUnreserved(byte) ? String.fromCharCode(byte) : percentEncode(byte));
        i += 2;
        continue;
      }
    }
    escaped = false;
    if (code === SLASH || code === SEMICOLON || code === BACKSLASH || code < 0x20 || code === 0x7f) {
      throw invalid(pattern, 'contains "/" escaped, ";", "\\" or a control character');
    }
    let literal: string;
    if (code < 0x80) {
      literal = staysRaw(code) ? body.charAt(i) : percentEncode(code);
    } else {
      const char = String.fromCodePoint(body.codePointAt(i) ?? code);
      try {
        literal = encodeURIComponent(char);
      } catch {
        throw invalid(pattern, 'contains a lone surrogate');
      }
      i += char.length - 1;
    }
    appendToLast(parts, literal);
  }
  return segments;
}

function appendToLast(parts: string[], text: string): void {
  parts[parts.length - 1] = (parts[parts.length - 1] ?? '') + text;
}

function finishSegment(parts: readonly string[], stars: number, pattern: string): SegmentPattern {
  if (stars === 0) {
    const text = parts[0] ?? '';
    if (text === '') throw invalid(pattern, 'empty segment');
    if (text === '.' || text === '..') throw invalid(pattern, 'dot segment');
    return { kind: 'literal', text };
  }
  if (stars === 2 && parts.length === 2 && parts[0] === '' && parts[1] === '') return { kind: 'globstar' };
  return { kind: 'wildcard', parts, minLength: parts.reduce((sum, part) => sum + part.length, 0) };
}

/**
 * Greedy segment matching that remembers only the most recent `**` as its backtrack point (the classic wildcard
 * algorithm): a later `**` can absorb anything an earlier one could, so O(pattern segments × path segments).
 */
function matchSegments(pattern: readonly SegmentPattern[], segments: readonly string[]): boolean {
  let p = 0;
  let s = 0;
  let starP = -1;
  let starS = 0;
  while (s < segments.length) {
    const current = p < pattern.length ? pattern[p] : undefined;
    if (current?.kind === 'globstar') {
      starP = p++;
      starS = s;
    } else if (current !== undefined && matchSegment(current, segments[s] ?? '')) {
      p++;
      s++;
    } else if (starP >= 0) {
      p = starP + 1;
      s = ++starS;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p]?.kind === 'globstar') p++;
  return p === pattern.length;
}

function matchSegment(pattern: Exclude<SegmentPattern, { kind: 'globstar' }>, segment: string): boolean {
  if (pattern.kind === 'literal') return segment === pattern.text;
  const { parts, minLength } = pattern;
  if (segment.length < minLength) return false;
  const first = parts[0] ?? '';
  const lastPart = parts[parts.length - 1] ?? '';
  if (!segment.startsWith(first) || !segment.endsWith(lastPart)) return false;
  const end = segment.length - lastPart.length;
  if (!atBoundary(segment, end)) return false;
  let position = first.length;
  for (let k = 1; k < parts.length - 1; k++) {
    const part = parts[k] ?? '';
    let found = segment.indexOf(part, position);
    while (found !== -1 && !atBoundary(segment, found)) found = segment.indexOf(part, found + 1);
    if (found === -1 || found + part.length > end) return false;
    position = found + part.length;
  }
  return true;
}

/** False inside a `%XX` escape, so a wildcard never matches half of an encoded character. */
function atBoundary(text: string, index: number): boolean {
  return text.charCodeAt(index - 1) !== PERCENT && text.charCodeAt(index - 2) !== PERCENT;
}

/**
 * Decides how an unauthenticated request is answered when login is required: a browser navigation gets a
 * redirect to the login page, everything else (fetch/XHR, non-GET methods) gets a 401. Sending a 302 to an
 * XHR makes it follow the redirect to login.microsoftonline.com and fail with a CORS error (peers.md §3
 * theme 3), so anything that is not clearly a top-level navigation is answered with 401.
 *
 * Pure: reads header values only, no I/O and no module-level state.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** How an unauthenticated request should be answered when login is required. */
export type LoginResponseKind = 'redirect' | 'unauthorized';

type HeaderValue = string | readonly string[] | undefined;

/**
 * 'redirect' for a top-level browser navigation, 'unauthorized' for everything else.
 *
 * Rules (Wonderwall's `IsNavigationRequest`, slightly more lenient when only one fetch-metadata header is sent):
 * - the method must be exactly `GET` (HEAD, OPTIONS, CONNECT, POST … are never navigations);
 * - `X-Requested-With: XMLHttpRequest` is never a navigation;
 * - when `Sec-Fetch-Mode` and/or `Sec-Fetch-Dest` is present (non-empty), each present one must be
 *   `navigate` / `document` (case-insensitive; a duplicated header does not count as either);
 * - when neither is present, some `Accept` value must list `text/html` with a non-zero quality.
 */
export function loginResponseKind(method: string, headers: IncomingHttpHeaders): LoginResponseKind {
  if (method !== 'GET') return 'unauthorized';
  if (isXmlHttpRequest(headers['x-requested-with'])) return 'unauthorized';

  const mode = singleValue(headers['sec-fetch-mode']);
  const dest = singleValue(headers['sec-fetch-dest']);
  if (mode !== undefined || dest !== undefined) {
    const modeOk = mode === undefined || mode === 'navigate';
    const destOk = dest === undefined || dest === 'document';
    return modeOk && destOk ? 'redirect' : 'unauthorized';
  }
  return acceptsAny(headers.accept, isHtml) ? 'redirect' : 'unauthorized';
}

/**
 * True when the client prefers JSON for the 401 body: `Accept` lists `application/json` or the any-type range
 * (star slash star) with a non-zero quality, or there is no (non-empty) `Accept` header at all. Wonderwall answers
 * the same way; a browser navigation never gets here because it is redirected instead.
 */
export function wantsJson(headers: IncomingHttpHeaders): boolean {
  const accept = headers.accept;
  if (isBlank(accept)) return true;
  return acceptsAny(accept, isJsonOrAny);
}

function isHtml(range: string): boolean {
  return range === 'text/html';
}

function isJsonOrAny(range: string): boolean {
  return range === 'application/json' || range === '*/*';
}

/**
 * Lower-cased, trimmed value of a header that must occur once; empty counts as absent (Wonderwall's tests send
 * an empty header to mean "no fetch metadata"). Duplicates are joined like Node joins them, so they never equal
 * a single token.
 */
function singleValue(value: HeaderValue): string | undefined {
  if (value === undefined) return undefined;
  const joined = typeof value === 'string' ? value : value.join(', ');
  const trimmed = joined.trim().toLowerCase();
  return trimmed === '' ? undefined : trimmed;
}

function isXmlHttpRequest(value: HeaderValue): boolean {
  if (value === undefined) return false;
  const values = typeof value === 'string' ? [value] : value;
  for (const v of values) {
    for (const token of v.split(',')) {
      if (token.trim().toLowerCase() === 'xmlhttprequest') return true;
    }
  }
  return false;
}

function isBlank(value: HeaderValue): boolean {
  if (value === undefined) return true;
  const values = typeof value === 'string' ? [value] : value;
  return values.every((v) => v.trim() === '');
}

/**
 * True when some media range in any of the Accept values satisfies `test`. Ranges are compared lower-cased
 * without parameters; a range whose `q` is zero means "not acceptable" (RFC 9110 §12.4.2) and is skipped.
 */
function acceptsAny(value: HeaderValue, test: (range: string) => boolean): boolean {
  if (value === undefined) return false;
  const values = typeof value === 'string' ? [value] : value;
  for (const v of values) {
    for (const element of v.split(',')) {
      const semi = element.indexOf(';');
      const range = (semi === -1 ? element : element.slice(0, semi)).trim().toLowerCase();
      if (range === '' || !test(range)) continue;
      if (semi === -1 || !hasZeroQuality(element.slice(semi + 1))) return true;
    }
  }
  return false;
}

// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ); only the all-zero form matters here.
const ZERO_QVALUE = /^0(?:\.0{0,3})?$/;

function hasZeroQuality(params: string): boolean {
  for (const param of params.split(';')) {
    const eq = param.indexOf('=');
    if (eq === -1) continue;
    if (param.slice(0, eq).trim().toLowerCase() !== 'q') continue;
    return ZERO_QVALUE.test(param.slice(eq + 1).trim());
  }
  return false;
}

/**
 * What a request's Fetch Metadata (`Sec-Fetch-*`) and `Origin` say about who sent it. Page JavaScript can
 * neither set nor remove `Sec-*` headers or `Origin` (forbidden request headers), so their presence is proof
 * that a browser sent the request; their absence proves nothing (older browsers, plain-http origins,
 * server-side clients). Pure: reads header values only.
 */
import type { IncomingHttpHeaders } from 'node:http';

type HeaderValue = string | readonly string[] | undefined;

/** Lower-cased, trimmed single value; a duplicated header is joined (so it never equals one token); '' is absent. */
function one(value: HeaderValue): string | undefined {
  if (value === undefined) return undefined;
  const v = (typeof value === 'string' ? value : value.join(', ')).trim().toLowerCase();
  return v === '' ? undefined : v;
}

/**
 * What `Sec-Fetch-Site` says: one of its four values (any case), `unknown` for anything else (a duplicated
 * header, `cross-site, same-origin`, never one of the four), `empty` when sent without a value, `absent` when
 * not sent. Empty and absent stay apart because callers weigh them differently: an empty header is not what a
 * browser sends, and whether it counts as "not sent" is each caller's policy.
 */
export type FetchSite = 'same-origin' | 'none' | 'same-site' | 'cross-site' | 'unknown' | 'empty' | 'absent';

const SITES: ReadonlySet<string> = new Set(['same-origin', 'none', 'same-site', 'cross-site']);

/** The one reading of `Sec-Fetch-Site`; see {@link FetchSite}. */
export function fetchSite(headers: IncomingHttpHeaders): FetchSite {
  const value: HeaderValue = headers['sec-fetch-site'];
  if (value === undefined) return 'absent';
  const v = one(value);
  if (v === undefined) return 'empty';
  return SITES.has(v) ? (v as FetchSite) : 'unknown';
}

/** Our own origin made the request (`same-origin`), or the user did (`none`: typed the URL, a bookmark). */
export function ownSite(site: FetchSite): boolean {
  return site === 'same-origin' || site === 'none';
}

/** The header came with a value (even one no browser sends): an empty one says as little as none at all. */
export function siteSent(site: FetchSite): boolean {
  return site !== 'absent' && site !== 'empty';
}

/** The header says another site made the request: a value was sent, and it is not our own site's. */
export function otherSite(site: FetchSite): boolean {
  return siteSent(site) && !ownSite(site);
}

/** True when the request carries an `Origin` header (any value, `null` included). */
export function hasOrigin(headers: IncomingHttpHeaders): boolean {
  return headers.origin !== undefined;
}

const NAVIGATION_DESTS = new Set(['document', 'iframe', 'frame']);

/**
 * True when the browser says this request was made by a page's script, or could be read by one: an `Origin`
 * header (fetch/XHR other than a same-origin GET, form posts), `Sec-Fetch-Mode` other than `navigate`
 * (`cors`, `no-cors`, `same-origin`, `websocket`), or `Sec-Fetch-Dest` other than a document or frame. A
 * navigation's answer headers are never visible to script; these answers may be.
 */
export function browserScriptRequest(headers: IncomingHttpHeaders): boolean {
  if (hasOrigin(headers)) return true;
  const mode = one(headers['sec-fetch-mode']);
  if (mode !== undefined && mode !== 'navigate') return true;
  const dest = one(headers['sec-fetch-dest']);
  return dest !== undefined && !NAVIGATION_DESTS.has(dest);
}

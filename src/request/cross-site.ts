import type { IncomingHttpHeaders } from 'node:http';
import { fetchSite, ownSite } from './fetch-metadata.js';

/**
 * Whether a request was made by a page of another site: what a browser sends with every request it makes
 * for a page, read the way browsers make it unforgeable. Pure.
 *
 * - With Fetch Metadata (`Sec-Fetch-Site`, sent by current browsers), only `same-origin` and `none` (the
 *   user typed the URL, used a bookmark) are same-site here: `same-site` is a sibling subdomain, which may be
 *   another team's app or a user-controlled host, and `cross-site` is any other site.
 * - Without it (older browsers, some websocket handshakes), an `Origin` that is none of the ingresses'
 *   origins (compared exactly, `null` included) is cross-site.
 * - With neither, the request is not from a browser page (curl, a server, a native client): not cross-site.
 *
 * A duplicated, unknown or empty `Sec-Fetch-Site` is never taken as same-origin.
 */
export function isCrossSite(headers: IncomingHttpHeaders, ingressOrigins: ReadonlySet<string>): boolean {
  const site = fetchSite(headers);
  // An empty header is Fetch Metadata that vouches for nothing, so it does not fall back to the Origin.
  if (site !== 'absent') return !ownSite(site);
  const origin = headers.origin;
  return origin !== undefined && !ingressOrigins.has(origin.trim().toLowerCase());
}

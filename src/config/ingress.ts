import { isLoopbackName } from './loopback.js';

/** One public base URL the app is reachable at; vestibule's routes live under its path. */
export interface Ingress {
  /** The base URL without a trailing slash, e.g. `https://example.com/app`. */
  readonly url: string;
  readonly origin: string;
  /** Host with port when not default, lower-cased, e.g. `example.com` or `localhost:7564`. */
  readonly host: string;
  /** `/` or a path without a trailing slash, e.g. `/app`. */
  readonly path: string;
  /** Prefix for route paths: `''` for the root ingress, else the path (`/app`). */
  readonly routePrefix: string;
  readonly secure: boolean;
  /** `http://localhost…` and loopback ingresses are for local development: cookies may then lack Secure. */
  readonly local: boolean;
}

/**
 * A loopback ingress hostname: also `*.localhost`, which browsers resolve to this machine themselves (RFC 6761)
 * and treat as a secure context, so a local ingress may use it.
 */
export function isLoopbackHostname(hostname: string): boolean {
  return isLoopbackName(hostname) || hostname.endsWith('.localhost');
}

/** Parses one ingress URL; returns a problem description instead of throwing. */
export function parseIngress(raw: string): Ingress | string {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    return 'is not an absolute URL';
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'must use https:// (or http:// for localhost)';
  if (u.search || u.hash) return 'must not have a query or fragment';
  if (u.username || u.password) return 'must not contain credentials';
  const local = isLoopbackHostname(u.hostname);
  if (u.protocol === 'http:' && !local) return 'must use https:// unless the host is localhost';
  const path = u.pathname.replace(/\/+$/, '') || '/';
  if (path !== '/' && !/^(\/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+$/.test(path)) return 'has an invalid path';
  return {
    url: `${u.origin}${path === '/' ? '' : path}`,
    origin: u.origin,
    host: u.host.toLowerCase(),
    path,
    routePrefix: path === '/' ? '' : path,
    secure: u.protocol === 'https:',
    local,
  };
}

/**
 * Picks the ingress a request came through: the one whose host matches and whose path is the longest
 * segment-aligned prefix of the request path (`/app` does not own `/apple`); when no host matches (the
 * sidecar may be reached by an internal name), the same rule over all ingresses; finally the first.
 */
export function matchIngress(ingresses: readonly Ingress[], host: string | undefined, path: string): Ingress {
  const first = ingresses[0];
  if (!first) throw new RangeError('no ingress configured');
  if (ingresses.length === 1) return first;
  const h = host?.toLowerCase();
  const byHost = ingresses.filter((i) => i.host === h);
  return longestPrefix(byHost.length > 0 ? byHost : ingresses, path) ?? first;
}

function longestPrefix(candidates: readonly Ingress[], path: string): Ingress | undefined {
  let best: Ingress | undefined;
  for (const i of candidates) {
    const owns = i.path === '/' || path === i.path || path.startsWith(i.path + '/');
    if (owns && (!best || i.path.length > best.path.length)) best = i;
  }
  return best;
}

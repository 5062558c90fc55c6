/** The path part of the raw request target. */
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** The query string of the raw request target, without '?'. */
export function queryOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? '' : url.slice(q + 1);
}

/**
 * Why a request target must not be passed to the app, or undefined when it may. Only origin-form paths
 * ("/…") are forwarded: an absolute-form target or a path starting with `//` or `/\` would name another host
 * to some routers, and a dot segment — raw, percent-encoded or hidden before an encoded slash — would make
 * our path rules and the app's router disagree about which resource this is (the skip-route bypass class of
 * CVE-2025-54576). Browsers resolve dot segments before sending, so no real page needs them.
 */
export function requestTargetProblem(url: string): string | undefined {
  const path = pathOf(url);
  if (path.charCodeAt(0) !== 0x2f) return 'the request target must be a path';
  // A request target never carries a fragment (browsers do not send one); routers cut the path at a raw '#',
  // so our rules and the app would disagree about which resource `/api/admin#x` names.
  if (path.includes('#')) return 'the request target must not carry a fragment (#)';
  const second = path.charCodeAt(1);
  if (second === 0x2f || second === 0x5c) return 'the path must not start with // or /\\';
  // Most paths have nothing to decode: skip the work.
  if (!/[.%\\]/.test(path)) return undefined;
  let decoded: string;
  try {
    decoded = decodeURIComponent(path).replaceAll('\\', '/');
  } catch {
    return 'the path has invalid percent-encoding';
  }
  if (decoded.startsWith('//')) return 'the path must not start with // or /\\';
  const segments = decoded.split(/[/;]/);
  if (segments.includes('..') || segments.includes('.')) return 'dot segments are not allowed in the path';
  return undefined;
}

const HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]+)(:\d{1,5})?$/;

/**
 * Why a Host header must not be passed on, or undefined. The Host goes to the app; one that is not a
 * host[:port] is refused here rather than by the client library towards the app (which would look like the
 * app being down).
 */
export function hostProblem(host: string | undefined): string | undefined {
  return host !== undefined && !HOST.test(host) ? 'invalid Host header' : undefined;
}

/**
 * The path and query of a same-origin `Referer`: where a script's page should land after a login it could not
 * follow itself. Another origin's (or a malformed) Referer is undefined, so the login URL never leaves the site.
 */
export function refererPath(referer: string | undefined, origin: string): string | undefined {
  if (!referer) return undefined;
  try {
    const u = new URL(referer);
    return u.origin === origin ? pathOf(u.pathname) + u.search : undefined;
  } catch {
    return undefined;
  }
}

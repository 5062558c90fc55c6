/**
 * Where a login may ask to land at most: `/oauth2/login` sends a longer target to the ingress root (the target
 * travels in the login cookie, and that cookie is bounded).
 */
export const MAX_LOGIN_REDIRECT_LENGTH = 1024;

/**
 * The longest `redirect` value put into a login URL, percent-encoded. A `Location` header travels through the
 * ingress, whose buffer for an upstream's headers is 4 KB by default (nginx's `proxy_buffer_size`, also for an
 * `auth_request` answer): a longer one turns the way to the login into a 502. A target of at most
 * {@link MAX_LOGIN_REDIRECT_LENGTH} characters encodes to up to 3× that, 6× for bytes above 0x7f.
 */
const MAX_ENCODED_REDIRECT = 2048;

/** The longest login URL put into a `Location` (the rest of an answer's headers fit in the 4 KB beside it). */
export const MAX_LOGIN_URL = 3072;

/**
 * The login URL: `/oauth2/login` on the ingress with the page to return to, encoded as one query value (a path
 * with its own `&` or `#` stays one parameter). A target the login route would not keep (too long), or whose
 * encoding would not fit an ingress's header buffer, is left out: the browser lands on the ingress root after
 * the login, as the login route would send it anyway.
 *
 * @param redirect where the browser goes after the login (a path on the ingress, as `/oauth2/login` accepts)
 * @param routePrefix the ingress's path prefix (`/app` for https://host/app), '' at the root
 */
export function loginUrl(redirect: string | undefined, routePrefix = ''): string {
  const base = `${routePrefix}/oauth2/login`;
  if (redirect === undefined || redirect.length > MAX_LOGIN_REDIRECT_LENGTH) return base;
  const encoded = encodeURIComponent(redirect);
  return encoded.length > MAX_ENCODED_REDIRECT ? base : `${base}?redirect=${encoded}`;
}

/**
 * The login URL with one more parameter (a step-up's `claims`); when both together would pass
 * {@link MAX_LOGIN_URL}, the way back is left out first, as the parameter is what the login is for.
 */
export function loginUrlWith(redirect: string | undefined, routePrefix: string, name: string, value: string): string {
  const full = withQueryParam(loginUrl(redirect, routePrefix), name, value);
  return full.length <= MAX_LOGIN_URL ? full : withQueryParam(loginUrl(undefined, routePrefix), name, value);
}

/** `url` with one more query parameter, `name=value` encoded. */
export function withQueryParam(url: string, name: string, value: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}${name}=${encodeURIComponent(value)}`;
}

import type { Ingress } from '../config/ingress.js';

/** Every cookie vestibule sets starts with this (after a `__Host-`/`__Secure-` prefix); see {@link stripCookies}. */
export const COOKIE_PREFIX = 'vestibule';
/**
 * The session and logout cookie names of an http:// (localhost) ingress. On https ingresses the names carry a
 * prefix: use {@link sessionCookieName} and {@link logoutCookieName}, which pick the name for the ingress.
 */
export const SESSION_COOKIE = `${COOKIE_PREFIX}.session`;
export const LOGOUT_COOKIE = `${COOKIE_PREFIX}.logout`;
const LOGIN_COOKIE_PREFIX = `${COOKIE_PREFIX}.login.`;
const LOGINS_COOKIE = `${COOKIE_PREFIX}.logins`;

export type CookieScope = 'session' | 'login' | 'logout';

/**
 * The cookie-name prefix the browser enforces (RFC 6265bis §4.1.3) for our cookies on this ingress:
 *
 * - `__Host-` for every cookie of an https ingress at the root path (session, login, logout and the login
 *   counter): the browser only keeps it when it was set by this very host, Secure, with `Path=/` and no
 *   `Domain`, so a sibling subdomain (or the parent domain) cannot plant one. A `__Secure-` cookie may carry a
 *   `Domain`: a planted login cookie would log the victim in as the attacker (login CSRF), a planted session
 *   cookie would hide theirs. The price: login and logout state are sent with every request while they live
 *   (at most three login cookies, see `login/login-rate-limit.ts`, for 10 min; stripped before the app, see `stripCookies`);
 * - `__Secure-` for every cookie of an https sub-path ingress: a `__Host-` cookie must have `Path=/`, which
 *   would share it with every other app on the host, so a sibling can still plant these (docs/security.md);
 * - none on an http:// ingress (localhost development), where the browser would refuse the prefixed names.
 *
 * On https ingresses only the prefixed names are read: a plain `vestibule.session` is someone else's cookie.
 */
export function cookieNamePrefix(ingress: Ingress): '' | '__Host-' | '__Secure-' {
  if (!ingress.secure) return '';
  return hostOnly(ingress) ? '__Host-' : '__Secure-';
}

/** An https ingress at the root path: every cookie of ours is `__Host-`, so `Path=/`. */
function hostOnly(ingress: Ingress): boolean {
  return ingress.secure && ingress.path === '/';
}

/** The session cookie's name on this ingress (`__Host-vestibule.session` on an https root ingress). */
export function sessionCookieName(ingress: Ingress): string {
  return cookieNamePrefix(ingress) + SESSION_COOKIE;
}

/** The logout state cookie's name on this ingress. */
export function logoutCookieName(ingress: Ingress): string {
  return cookieNamePrefix(ingress) + LOGOUT_COOKIE;
}

/** What every login cookie's name starts with on this ingress. */
export function loginCookieNamePrefix(ingress: Ingress): string {
  return cookieNamePrefix(ingress) + LOGIN_COOKIE_PREFIX;
}

/** A login cookie per login attempt, named from its state, so logins started in parallel tabs all complete. */
export function loginCookieName(ingress: Ingress, state: string): string {
  return loginCookieNamePrefix(ingress) + state.slice(0, 16);
}

/** The per-browser login counter (and list of pending logins), scoped to the login path (`/` on https root). */
export function loginsCookieName(ingress: Ingress): string {
  return cookieNamePrefix(ingress) + LOGINS_COOKIE;
}

/** The attributes of our cookies; fits both reply.setCookie and serializeCookie. Never a `Domain`. */
export interface CookieAttributes {
  readonly path: string;
  readonly httpOnly: true;
  readonly secure: boolean;
  readonly sameSite: 'lax';
  readonly maxAge?: number;
}

/**
 * Where each cookie is sent: the session to the whole ingress; login and logout state only to their callbacks
 * (the counter to the login path), except on an https root ingress, whose `__Host-` cookies must have `Path=/`.
 * No `Domain` attribute ever (host-only cookies), as `__Host-` requires.
 */
export function cookieOptions(ingress: Ingress, scope: CookieScope | 'logins', maxAgeSec?: number): CookieAttributes {
  const path =
    scope === 'session'
      ? ingress.path
      : hostOnly(ingress)
        ? '/'
        : `${ingress.routePrefix}/oauth2/${scope === 'login' ? 'callback' : scope === 'logins' ? 'login' : 'logout/callback'}`;
  return {
    path,
    httpOnly: true,
    // http:// ingresses are only accepted on localhost (development); everything else is https and Secure.
    secure: ingress.secure,
    sameSite: 'lax',
    ...(maxAgeSec !== undefined ? { maxAge: maxAgeSec } : {}),
  };
}

import type { Ingress } from '../config/ingress.js';

/** Every cookie vestibule sets starts with this; {@link stripCookies} removes them before proxying. */
export const COOKIE_PREFIX = 'vestibule';
export const SESSION_COOKIE = `${COOKIE_PREFIX}.session`;
export const LOGOUT_COOKIE = `${COOKIE_PREFIX}.logout`;
const LOGIN_COOKIE_PREFIX = `${COOKIE_PREFIX}.login.`;

/** A login cookie per login attempt, named from its state, so logins started in parallel tabs all complete. */
export function loginCookieName(state: string): string {
  return LOGIN_COOKIE_PREFIX + state.slice(0, 16);
}

/** The attributes of our cookies; fits both reply.setCookie and serializeCookie. */
export interface CookieAttributes {
  readonly path: string;
  readonly httpOnly: true;
  readonly secure: boolean;
  readonly sameSite: 'lax';
  readonly maxAge?: number;
}

/** Where each cookie is sent: the session to the whole ingress, login and logout state only to their callbacks. */
export function cookieOptions(
  ingress: Ingress,
  scope: 'session' | 'login' | 'logout',
  maxAgeSec?: number,
): CookieAttributes {
  const path =
    scope === 'session'
      ? ingress.path
      : `${ingress.routePrefix}/oauth2/${scope === 'login' ? 'callback' : 'logout/callback'}`;
  return {
    path,
    httpOnly: true,
    // http:// ingresses are only accepted on localhost (development); everything else is https and Secure.
    secure: ingress.secure,
    sameSite: 'lax',
    ...(maxAgeSec !== undefined ? { maxAge: maxAgeSec } : {}),
  };
}

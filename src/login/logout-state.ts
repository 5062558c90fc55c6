import type { Keyring } from '../crypto/keyring.js';
import { openCookie, sealCookie } from './state-cookie.js';

export const LOGOUT_COOKIE_TTL_SEC = 600;

/** Carried from /oauth2/logout to /oauth2/logout/callback: where to land, bound to a state. */
export interface LogoutState {
  readonly state: string;
  readonly redirect: string;
}

/**
 * Sealed under the cookie's real name (`logoutCookieName(ingress)`: `__Host-`/`__Secure-` on https), bound as
 * associated data like the login state's, so a value cannot be replayed under another of our cookie names.
 */
export function sealLogoutState(ring: Keyring, name: string, s: LogoutState, now: number): string {
  return sealCookie(ring, 'logout-cookie', name, s, now + LOGOUT_COOKIE_TTL_SEC * 1000);
}

export function openLogoutState(ring: Keyring, name: string, raw: string | undefined, now: number): LogoutState | null {
  const v = openCookie(ring, 'logout-cookie', name, raw, now);
  return v && typeof v.state === 'string' && typeof v.redirect === 'string'
    ? { state: v.state, redirect: v.redirect }
    : null;
}

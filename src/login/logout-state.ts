import type { Keyring } from '../crypto/keyring.js';
import { LOGOUT_COOKIE } from '../cookies/our-cookies.js';
import { openCookie, sealCookie } from './state-cookie.js';

export const LOGOUT_COOKIE_TTL_SEC = 600;

/** Carried from /oauth2/logout to /oauth2/logout/callback: where to land, bound to a state. */
export interface LogoutState {
  readonly state: string;
  readonly redirect: string;
}

export function sealLogoutState(ring: Keyring, s: LogoutState, now: number): string {
  return sealCookie(ring, 'logout-cookie', LOGOUT_COOKIE, s, now + LOGOUT_COOKIE_TTL_SEC * 1000);
}

export function openLogoutState(ring: Keyring, raw: string | undefined, now: number): LogoutState | null {
  const v = openCookie(ring, 'logout-cookie', LOGOUT_COOKIE, raw, now);
  return v && typeof v.state === 'string' && typeof v.redirect === 'string'
    ? { state: v.state, redirect: v.redirect }
    : null;
}

import type { Keyring } from '../crypto/keyring.js';
import { openCookie, sealCookie } from './state-cookie.js';

/** A login must come back from the identity provider within this time. */
export const LOGIN_COOKIE_TTL_SEC = 600;

/** What the browser carries between /oauth2/login and /oauth2/callback, sealed. */
export interface LoginState {
  readonly state: string;
  readonly nonce: string;
  readonly verifier: string;
  /** Where to land after login (validated at login and again at the callback). */
  readonly redirect: string;
}

export function sealLoginState(ring: Keyring, cookieName: string, s: LoginState, now: number): string {
  return sealCookie(ring, 'login-cookie', cookieName, s, now + LOGIN_COOKIE_TTL_SEC * 1000);
}

export function openLoginState(
  ring: Keyring,
  cookieName: string,
  raw: string | undefined,
  now: number,
): LoginState | null {
  const v = openCookie(ring, 'login-cookie', cookieName, raw, now);
  if (!v) return null;
  const { state, nonce, verifier, redirect } = v;
  if (
    typeof state !== 'string' ||
    typeof nonce !== 'string' ||
    typeof verifier !== 'string' ||
    typeof redirect !== 'string'
  ) {
    return null;
  }
  return { state, nonce, verifier, redirect };
}

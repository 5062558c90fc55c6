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
  /**
   * The fingerprint of the claims request this login asked for (a step-up or an app's challenge; see
   * `step-up-memory.ts`): the callback remembers it so the same challenge is not answered with a login twice.
   * Only the fingerprint: the request itself (up to 2 KB) would push the cookie past its 4 KB bound.
   */
  readonly stepUp?: string | undefined;
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
  const { state, nonce, verifier, redirect, stepUp } = v;
  if (
    typeof state !== 'string' ||
    typeof nonce !== 'string' ||
    typeof verifier !== 'string' ||
    typeof redirect !== 'string' ||
    (stepUp !== undefined && typeof stepUp !== 'string')
  ) {
    return null;
  }
  return stepUp === undefined ? { state, nonce, verifier, redirect } : { state, nonce, verifier, redirect, stepUp };
}

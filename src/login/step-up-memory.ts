import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import type { Ingress } from '../config/ingress.js';
import { cookieValues } from '../cookies/cookie-header.js';
import { COOKIE_PREFIX, cookieNamePrefix, cookieOptions } from '../cookies/our-cookies.js';
import type { Keyring } from '../crypto/keyring.js';

/**
 * How long a completed step-up is remembered: asked again for the same claims within this time, the login
 * answers 403 instead of sending the browser round again (the fresh login did not satisfy the app).
 */
export const STEP_UP_MEMORY_SEC = 300;

/**
 * The step-up memory cookie's name on this ingress. It is scoped like the login counter (the login path, or
 * `/` on an https root ingress, where it is stripped before the app as every `vestibule` cookie is).
 */
export function stepUpCookieName(ingress: Ingress): string {
  return `${cookieNamePrefix(ingress)}${COOKIE_PREFIX}.stepup`;
}

/** 22 base64url characters of SHA-256 of a claims request (its validated JSON): names it without carrying it. */
export function claimsFingerprint(claimsJson: string): string {
  return createHash('sha256').update(claimsJson).digest('base64url').slice(0, 22);
}

/** Values that pass the cheap checks and get their MAC checked, per request, at most. */
const MAX_CHECKED = 4;
/** How far ahead of this replica's clock the replica that set the value may have been, in seconds. */
const CLOCK_SKEW_SEC = 5;
/** The MAC's length in bytes (HMAC-SHA256 truncated), 22 base64url characters in the cookie. */
const MAC_BYTES = 16;
/** `<fingerprint>.<epoch s>.<MAC>`; the time in plain digits, at most 12 (no sign, exponent or fraction). */
const VALUE = /^([A-Za-z0-9_-]{22})\.(\d{1,12})\.([A-Za-z0-9_-]{22})$/;

/**
 * The MAC of a step-up memory under one key: over the fingerprint, the time and the store id of the session
 * ticket the step-up login created, so the value counts only beside that session's cookie. Every field has a
 * fixed alphabet without `.`, so the joined input is unambiguous.
 */
function stepUpMac(key: Buffer, fingerprint: string, at: string, ticketId: string): string {
  return createHmac('sha256', key)
    .update(`${fingerprint}.${at}.${ticketId}`)
    .digest()
    .subarray(0, MAC_BYTES)
    .toString('base64url');
}

/**
 * The value of the step-up memory cookie: `<fingerprint>.<epoch s>.<MAC>`, the MAC made with the current key
 * (see {@link stepUpMac}). No secret in it: the fingerprint names a public claims request, and the ticket id is
 * only under the MAC. Undefined for a malformed fingerprint or ticket id.
 */
export function stepUpMemoryValue(
  keyring: Keyring,
  fingerprint: string,
  ticketId: string,
  nowMs: number,
): string | undefined {
  if (!/^[A-Za-z0-9_-]{22}$/.test(fingerprint) || !/^[A-Za-z0-9_-]+$/.test(ticketId)) return undefined;
  const key = keyring.derive('step-up-memory');
  if (!key) return undefined;
  const at = String(Math.floor(nowMs / 1000));
  return `${fingerprint}.${at}.${stepUpMac(key, fingerprint, at, ticketId)}`;
}

/**
 * Remembers, in the browser, that a login asking for the claims request of `fingerprint` just completed and
 * created the session whose ticket has the store id `ticketId` ({@link stepUpMemoryValue}).
 * MAC'd, not merely plain: on a sub-path or http:// ingress the name has no `__Host-` prefix, so a sibling
 * subdomain could plant a fresh value and turn the victim's step-up into a 403 for five minutes; and a value
 * one browser obtained must not count in another (it names the session it was made for).
 */
export function rememberStepUp(
  reply: FastifyReply,
  ingress: Ingress,
  keyring: Keyring,
  fingerprint: string,
  ticketId: string,
  nowMs: number,
): void {
  const value = stepUpMemoryValue(keyring, fingerprint, ticketId, nowMs);
  if (value === undefined) return;
  reply.setCookie(stepUpCookieName(ingress), value, cookieOptions(ingress, 'logins', STEP_UP_MEMORY_SEC));
}

/**
 * True when this browser completed a login asking for the claims of `fingerprint` within {@link STEP_UP_MEMORY_SEC},
 * and that login created the session it still has (`ticketId`: the store id of the ticket of the request's
 * session cookie, undefined without a valid one): the app (or a protected-path rule) still asks for the same
 * claims, so another round would be a loop. A value counts when its MAC verifies under any key of the ring
 * (current first: a key rotation keeps the memory); anything else (no session, another session's value, a bad
 * MAC, a malformed value, a time in the future or past the window) is no memory, and the login goes on.
 */
export function steppedUpRecently(
  cookieHeader: string | undefined,
  ingress: Ingress,
  keyring: Keyring,
  ticketId: string | undefined,
  fingerprint: string,
  nowMs: number,
): boolean {
  if (ticketId === undefined) return false;
  const now = Math.floor(nowMs / 1000);
  let checked = 0;
  return cookieValues(cookieHeader, stepUpCookieName(ingress)).some((v) => {
    const m = VALUE.exec(v);
    if (!m) return false;
    const [, print = '', at = '', mac = ''] = m;
    const t = Number(at);
    // The cheap checks first: only a value for these claims and inside the window costs HMACs. The window
    // allows another replica's clock to be a little ahead: the value is MAC'd, so that opens nothing.
    if (print !== fingerprint || t > now + CLOCK_SKEW_SEC || now - t >= STEP_UP_MEMORY_SEC) return false;
    // Both checks are passed by anyone (the claims are public, any fresh time will do): a header of hundreds of
    // such values would cost hundreds of HMACs. A browser holds one, two with a second ingress path.
    if (++checked > MAX_CHECKED) return false;
    const given = Buffer.from(mac);
    return keyring.ids.some((id) => {
      const key = keyring.derive('step-up-memory', id);
      return key !== undefined && timingSafeEqual(Buffer.from(stepUpMac(key, print, at, ticketId)), given);
    });
  });
}

import { createHash } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import type { Ingress } from '../config/ingress.js';
import { cookieValues } from '../cookies/cookie-header.js';
import { COOKIE_PREFIX, cookieNamePrefix, cookieOptions } from '../cookies/our-cookies.js';

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

/**
 * Remembers, in the browser, that a login asking for the claims request of `fingerprint` just completed
 * (`<fingerprint>.<epoch s>`).
 * Plain text on purpose: it holds no secret, and a browser that tampers with it only loses its own loop guard
 * (the login rate limit still bounds it).
 */
export function rememberStepUp(reply: FastifyReply, ingress: Ingress, fingerprint: string, nowMs: number): void {
  if (!/^[A-Za-z0-9_-]{22}$/.test(fingerprint)) return;
  const value = `${fingerprint}.${Math.floor(nowMs / 1000)}`;
  reply.setCookie(stepUpCookieName(ingress), value, cookieOptions(ingress, 'logins', STEP_UP_MEMORY_SEC));
}

/**
 * True when this browser completed a login asking for the claims of `fingerprint` within {@link STEP_UP_MEMORY_SEC}:
 * the app (or a protected-path rule) still asks for the same claims, so another round would be a loop.
 */
export function steppedUpRecently(
  cookieHeader: string | undefined,
  ingress: Ingress,
  fingerprint: string,
  nowMs: number,
): boolean {
  const now = Math.floor(nowMs / 1000);
  return cookieValues(cookieHeader, stepUpCookieName(ingress)).some((v) => {
    const [print, at] = v.split('.');
    const t = Number(at);
    return print === fingerprint && Number.isInteger(t) && t <= now && now - t < STEP_UP_MEMORY_SEC;
  });
}

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Ingress } from '../config/ingress.js';
import { cookieValues } from '../cookies/cookie-header.js';
import { COOKIE_PREFIX } from '../cookies/our-cookies.js';

const COOKIE = `${COOKIE_PREFIX}.logins`;
/** More logins than this from one browser within the window is a loop (an app that keeps sending users back). */
export const LOGIN_LIMIT = 8;
export const LOGIN_WINDOW_SEC = 60;

/**
 * Counts logins per browser in a small cookie scoped to the login path. Returns true when the browser is over
 * the limit and should get the 429 page instead of another redirect. The counter is plain text: tampering with
 * it only lets a browser skip its own protection.
 */
export function overLoginLimit(request: FastifyRequest, reply: FastifyReply, ingress: Ingress, nowMs: number): boolean {
  const now = Math.floor(nowMs / 1000);
  const [countText = '', startText = ''] = (cookieValues(request.headers.cookie, COOKIE)[0] ?? '').split('.');
  const start = Number(startText);
  const fresh = !Number.isInteger(start) || now - start >= LOGIN_WINDOW_SEC || start > now;
  const count = fresh ? 1 : Math.min(Number(countText) || 0, 1000) + 1;
  const windowStart = fresh ? now : start;
  reply.setCookie(COOKIE, `${count}.${windowStart}`, {
    path: `${ingress.routePrefix}/oauth2/login`,
    httpOnly: true,
    secure: ingress.secure,
    sameSite: 'lax',
    maxAge: LOGIN_WINDOW_SEC,
  });
  return count > LOGIN_LIMIT;
}

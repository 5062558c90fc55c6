import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Ingress } from '../config/ingress.js';
import { cookieValues } from '../cookies/cookie-header.js';
import { cookieOptions, loginCookieName, loginsCookieName } from '../cookies/our-cookies.js';
import { LOGIN_COOKIE_TTL_SEC } from './login-state.js';

/** More logins than this from one browser within the window is a loop (an app that keeps sending users back). */
export const LOGIN_LIMIT = 8;
export const LOGIN_WINDOW_SEC = 60;
/**
 * Login cookies one browser keeps at most: starting another clears the oldest. Each is up to ~1.6 KB (the stored
 * redirect is capped at `MAX_LOGIN_REDIRECT_LENGTH`, request/login-url.ts), so a page that opens the login URL again and again
 * cannot push the callback's Cookie header past the server's 32 KB limit (431 for every real login until the
 * cookies expire). Three still let a user start logins in a few tabs at once.
 */
export const MAX_PENDING_LOGINS = 3;

/** The part of a login cookie's name after its prefix: the first 16 characters of the state. */
const STATE_KEY = /^[A-Za-z0-9_-]{16}$/;

interface LoginTally {
  readonly count: number;
  readonly windowStart: number;
  /** State keys of the login cookies this browser was given, oldest first. */
  readonly pending: readonly string[];
}

/**
 * Counts logins per browser in a small cookie scoped to the login path, `count.windowStart[.stateKey…]`, which
 * also lists the login cookies this browser holds (they are scoped to the callback, so the login path cannot see
 * them). The counter is plain text: tampering with it only lets a browser skip its own protection.
 */
export class LoginLimit {
  readonly #tally: LoginTally;
  readonly #ingress: Ingress;

  constructor(request: FastifyRequest, ingress: Ingress, nowMs: number) {
    this.#ingress = ingress;
    const now = Math.floor(nowMs / 1000);
    const [countText = '', startText = '', ...keys] = (
      cookieValues(request.headers.cookie, loginsCookieName(ingress))[0] ?? ''
    ).split('.');
    const start = Number(startText);
    const fresh = !Number.isInteger(start) || now - start >= LOGIN_WINDOW_SEC || start > now;
    this.#tally = {
      count: fresh ? 1 : Math.min(Number(countText) || 0, 1000) + 1,
      windowStart: fresh ? now : start,
      pending: keys.filter((k) => STATE_KEY.test(k)).slice(-MAX_PENDING_LOGINS),
    };
  }

  /** True when the browser is over the limit and should get the 429 page instead of another redirect. */
  get over(): boolean {
    return this.#tally.count > LOGIN_LIMIT;
  }

  /**
   * Writes the counter; with `state`, records the login cookie about to be set and clears the oldest ones beyond
   * {@link MAX_PENDING_LOGINS}.
   */
  save(reply: FastifyReply, state?: string): void {
    let pending = [...this.#tally.pending];
    if (state !== undefined) {
      const key = state.slice(0, 16);
      pending = [...pending.filter((k) => k !== key), key];
      for (const dropped of pending.splice(0, Math.max(0, pending.length - MAX_PENDING_LOGINS))) {
        reply.clearCookie(loginCookieName(this.#ingress, dropped), cookieOptions(this.#ingress, 'login'));
      }
    }
    const value = [String(this.#tally.count), String(this.#tally.windowStart), ...pending].join('.');
    // As long as the login cookies it lists: a quiet minute must not make the browser forget them.
    reply.setCookie(
      loginsCookieName(this.#ingress),
      value,
      cookieOptions(this.#ingress, 'logins', LOGIN_COOKIE_TTL_SEC),
    );
  }
}

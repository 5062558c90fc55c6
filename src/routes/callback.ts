import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { JWTPayload } from 'jose';
import { isVestibuleError, VestibuleError } from '../errors/registry.js';
import { cookieValues } from '../cookies/cookie-header.js';
import { cookieOptions, loginCookieName, SESSION_COOKIE } from '../cookies/our-cookies.js';
import { openLoginState } from '../login/login-state.js';
import { resolveRedirectTarget } from '../login/redirect-target.js';
import type { TokenResult } from '../oidc/provider.js';
import { timeoutFrom, type SessionPolicy } from '../session/policy.js';
import type { SessionClaims, SessionRecord } from '../session/record.js';
import type { RouteDeps } from './deps.js';
import { ingressOf, single } from '../request/request-facts.js';
import { noStore, sendErrorPage } from '../errors/answers.js';
import { queryOf } from '../request/request-target.js';
import { rejectNonNavigation } from './interactive.js';

/**
 * `GET /oauth2/callback`: matches the response to this browser's login cookie, refuses replays, redeems the
 * code, validates the ID token, and creates a new session (a new id every login: no fixation).
 */
export function callbackRoute(app: FastifyInstance, prefix: string, d: RouteDeps): void {
  app.get(`${prefix}/oauth2/callback`, { config: { routeClass: 'callback' } }, async (request, reply) => {
    rejectNonNavigation(request);
    const ingress = ingressOf(request, d.ingresses);
    const retry = `${ingress.routePrefix}/oauth2/login`;
    const fail = (status: number, title: string, message: string, retryRedirect?: string) =>
      sendErrorPage(reply, {
        status,
        title,
        message,
        ingress,
        retryUrl: retryRedirect === undefined ? retry : `${retry}?redirect=${encodeURIComponent(retryRedirect)}`,
      });

    const q = request.query as Record<string, unknown>;
    // Duplicated protocol parameters are ambiguous (parameter pollution): refuse them before anything else.
    if (['state', 'code', 'iss', 'error', 'session_state'].some((p) => Array.isArray(q[p]))) {
      d.metrics.logins.inc({ outcome: 'bad_request' });
      return fail(400, 'Login failed', 'The response from the identity provider repeats a parameter.');
    }
    const state = single(request.query, 'state');
    // Our states are base64url; anything else is not a response to our login (and must not name a cookie).
    if (!state || !/^[A-Za-z0-9_-]{16,128}$/.test(state)) {
      d.metrics.logins.inc({ outcome: 'bad_request' });
      return fail(400, 'Login failed', 'The response from the identity provider is missing its state.');
    }
    const name = loginCookieName(state);
    // The login cookie is single-use whatever happens next.
    reply.clearCookie(name, cookieOptions(ingress, 'login'));
    const login = openLoginState(d.keyring, name, cookieValues(request.headers.cookie, name)[0], d.now());
    if (!login) {
      d.metrics.logins.inc({ outcome: 'no_login_state' });
      return fail(
        401,
        'Login expired',
        'This login was started in another browser, has expired, or was already completed.',
      );
    }
    if (!sameString(login.state, state)) {
      d.metrics.logins.inc({ outcome: 'state_mismatch' });
      return fail(401, 'Login failed', 'The login state did not match.', login.redirect);
    }

    const error = single(request.query, 'error');
    if (error !== undefined) {
      const code = /^[a-z_]{1,64}$/.test(error) ? error : 'unknown_error';
      request.log.warn({ idpError: code }, 'identity provider returned an error to the callback');
      d.metrics.logins.inc({ outcome: 'idp_error' });
      return fail(502, 'Login failed', `The identity provider reported an error (${code}).`, login.redirect);
    }

    // Malformed responses are bad input (400), not an identity-provider fault: check before redeeming.
    const code = single(request.query, 'code');
    const iss = (request.query as Record<string, unknown>).iss;
    if (!code || (iss !== undefined && iss !== d.provider.metadata.issuer)) {
      d.metrics.logins.inc({ outcome: 'bad_request' });
      return fail(
        400,
        'Login failed',
        iss !== undefined && iss !== d.provider.metadata.issuer
          ? 'The response came from another identity provider.'
          : 'The response from the identity provider has no (single) authorization code.',
        login.redirect,
      );
    }

    // A login response is good once: the state is spent before the code is redeemed.
    if (!(await d.store.setIfAbsent(d.keys.spentState(state), '1', 600_000))) {
      d.metrics.logins.inc({ outcome: 'replayed' });
      return fail(401, 'Login already used', 'This login response was already used.', login.redirect);
    }

    let tokens: TokenResult;
    let claims: JWTPayload;
    try {
      const callbackUrl = new URL(`${ingress.url}/oauth2/callback?${queryOf(request.url)}`);
      ({ tokens, claims } = await d.provider.redeemCode(callbackUrl, login));
    } catch (err) {
      if (!isVestibuleError(err)) throw err;
      d.metrics.logins.inc({ outcome: err.code === 'IDP_UNAVAILABLE' ? 'idp_unavailable' : 'exchange_failed' });
      request.log.warn({ failure: { errorCode: err.code, message: err.message } }, 'login failed');
      return fail(
        err.code === 'IDP_UNAVAILABLE' ? 503 : 502,
        'Login failed',
        err.code === 'IDP_UNAVAILABLE'
          ? 'The identity provider could not be reached. Please try again in a moment.'
          : 'The login could not be completed.',
        login.redirect,
      );
    }

    request.log.debug(
      { expiresIn: tokens.expiresIn, refreshToken: tokens.refreshToken !== undefined, tid: claims.tid },
      'callback: code redeemed and ID token validated',
    );
    const previous = await d.manager.find(cookieValues(request.headers.cookie, SESSION_COOKIE)).catch(() => null);
    if (previous) await d.sessions.destroy(previous).catch(() => undefined);
    const now = d.now();
    const { cookieValue } = await d.sessions.create(newRecord(tokens, claims, now, d.sessionMaxLifetimeMs, d.policy));
    reply.setCookie(SESSION_COOKIE, cookieValue, cookieOptions(ingress, 'session'));
    d.metrics.logins.inc({ outcome: 'success' });
    request.log.info({ sid: claims.sid, oid: claims.oid }, 'login completed');
    return noStore(reply).redirect(resolveRedirectTarget(login.redirect, ingress.path), 302);
  });
}

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function newRecord(
  tokens: TokenResult,
  claims: JWTPayload,
  now: number,
  maxLifetimeMs: number,
  policy: SessionPolicy,
): SessionRecord {
  if (typeof claims.sub !== 'string') throw new VestibuleError('LOGIN_EXCHANGE_FAILED', 'ID token has no sub');
  const s = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const kept: SessionClaims = {
    sub: claims.sub,
    tid: s(claims.tid),
    oid: s(claims.oid),
    sid: s(claims.sid),
    name: s(claims.name),
    preferredUsername: s(claims.preferred_username),
  };
  const endsAt = now + maxLifetimeMs;
  return {
    createdAt: now,
    endsAt,
    timeoutAt: timeoutFrom(now, { endsAt }, policy),
    refreshedAt: now,
    accessToken: tokens.accessToken,
    accessTokenExpiresAt: now + tokens.expiresIn * 1000,
    refreshToken: tokens.refreshToken ?? null,
    idToken: tokens.idToken ?? null,
    claims: kept,
  };
}

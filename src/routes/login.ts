import type { FastifyInstance } from 'fastify';
import * as client from 'openid-client';
import { LOGIN_COOKIE_TTL_SEC, sealLoginState } from '../login/login-state.js';
import { cookieOptions, loginCookieName, SESSION_COOKIE } from '../cookies/our-cookies.js';
import { cookieValues } from '../cookies/cookie-header.js';
import { resolveRedirectTarget } from '../login/redirect-target.js';
import type { RouteDeps } from './deps.js';
import { LOGIN_WINDOW_SEC, overLoginLimit } from '../login/login-rate-limit.js';
import { ingressOf, single } from '../request/request-facts.js';
import { noStore, sendError } from '../errors/answers.js';
import { rejectNonNavigation } from './interactive.js';

const PROMPTS = new Set(['login', 'select_account']);

/**
 * `GET /oauth2/login?redirect=<path>`: starts the authorization-code flow with PKCE (S256), state and nonce,
 * kept in a sealed login cookie of their own so parallel logins in several tabs all complete.
 */
export function loginRoute(app: FastifyInstance, prefix: string, d: RouteDeps): void {
  app.route({
    method: ['GET', 'HEAD'],
    url: `${prefix}/oauth2/login`,
    config: { routeClass: 'login' },
    handler: async (request, reply) => {
      rejectNonNavigation(request);
      const ingress = ingressOf(request, d.ingresses);
      const q = request.query;
      const redirect = resolveRedirectTarget(single(q, 'redirect'), ingress.path);
      if (overLoginLimit(request, reply, ingress, d.now())) {
        request.log.warn('login loop detected; answering 429');
        return sendError(reply, 'LOGIN_RATE_LIMITED', {
          ingress,
          headers: { 'retry-after': String(LOGIN_WINDOW_SEC) },
        });
      }
      const extra: Record<string, string> = {};
      const prompt = single(q, 'prompt');
      if (prompt !== undefined) {
        // A forced login or account switch must not leave the old session usable.
        extra.prompt = PROMPTS.has(prompt) ? prompt : 'login';
        if (extra.prompt === 'login') extra.max_age = '0';
        const current = await d.manager.find(cookieValues(request.headers.cookie, SESSION_COOKIE)).catch(() => null);
        if (current) await d.sessions.destroy(current);
        reply.clearCookie(SESSION_COOKIE, cookieOptions(ingress, 'session'));
      }
      const domainHint = single(q, 'domain_hint');
      if (domainHint && /^[A-Za-z0-9.-]{1,253}$/.test(domainHint)) extra.domain_hint = domainHint;
      const locale = single(q, 'locale');
      if (locale && d.provider.metadata.uiLocalesSupported.includes(locale)) extra.ui_locales = locale;
      const level = single(q, 'level');
      if (level && d.provider.metadata.acrValuesSupported.includes(level)) extra.acr_values = level;

      const state = client.randomState();
      const nonce = client.randomNonce();
      const verifier = client.randomPKCECodeVerifier();
      const url = d.provider.authorizationUrl({
        redirectUri: `${ingress.url}/oauth2/callback`,
        scope: d.scopes.join(' '),
        state,
        nonce,
        codeChallenge: await client.calculatePKCECodeChallenge(verifier),
        extra,
      });
      const name = loginCookieName(state);
      const sealed = sealLoginState(d.keyring, name, { state, nonce, verifier, redirect }, d.now());
      reply.setCookie(name, sealed, cookieOptions(ingress, 'login', LOGIN_COOKIE_TTL_SEC));
      request.log.debug(
        { authorizationEndpoint: url.origin + url.pathname, ingress: ingress.url, extra: Object.keys(extra) },
        'login: redirecting to the identity provider',
      );
      return noStore(reply).redirect(url.href, 302);
    },
  });
}

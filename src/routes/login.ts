import type { FastifyInstance } from 'fastify';
import * as client from 'openid-client';
import { LOGIN_COOKIE_TTL_SEC, sealLoginState } from '../login/login-state.js';
import { cookieOptions, loginCookieName, sessionCookieName } from '../cookies/our-cookies.js';
import { cookieValues } from '../cookies/cookie-header.js';
import { resolveRedirectTarget } from '../login/redirect-target.js';
import type { RouteDeps } from './deps.js';
import { LoginLimit, MAX_LOGIN_REDIRECT_LENGTH } from '../login/login-rate-limit.js';
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
      // The target travels in the login cookie: a long one lands on the ingress root instead (cookie bomb).
      const asked = single(q, 'redirect');
      const redirect =
        asked !== undefined && asked.length > MAX_LOGIN_REDIRECT_LENGTH
          ? ingress.path
          : resolveRedirectTarget(asked, ingress.path);
      const limit = new LoginLimit(request, ingress, d.now());
      if (limit.over) {
        limit.save(reply);
        request.log.warn('login loop detected; answering 429');
        return sendError(reply, 'LOGIN_RATE_LIMITED', { ingress });
      }
      const extra: Record<string, string> = {};
      const prompt = single(q, 'prompt');
      if (prompt !== undefined) {
        extra.prompt = PROMPTS.has(prompt) ? prompt : 'login';
        if (extra.prompt === 'login') extra.max_age = '0';
        // A forced login or account switch the user asked for here must not leave the old session usable. A link
        // from another site (or a sibling subdomain) must not log the user out, though: then the session is kept
        // until the new login completes, when the callback replaces it.
        if (sameOriginNavigation(request.headers['sec-fetch-site'])) {
          const name = sessionCookieName(ingress);
          const current = await d.manager.find(cookieValues(request.headers.cookie, name)).catch(() => null);
          if (current) await d.sessions.destroy(current);
          reply.clearCookie(name, cookieOptions(ingress, 'session'));
        }
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
      const name = loginCookieName(ingress, state);
      const sealed = sealLoginState(d.keyring, name, { state, nonce, verifier, redirect }, d.now());
      limit.save(reply, state);
      reply.setCookie(name, sealed, cookieOptions(ingress, 'login', LOGIN_COOKIE_TTL_SEC));
      request.log.debug(
        { authorizationEndpoint: url.origin + url.pathname, ingress: ingress.url, extra: Object.keys(extra) },
        'login: redirecting to the identity provider',
      );
      return noStore(reply).redirect(url.href, 302);
    },
  });
}

/**
 * Fetch Metadata: `same-origin` (a link or form on the ingress's own origin) or `none` (typed, bookmarked). A
 * missing header counts as not same-origin: every current browser sends it, and a session is worth more than
 * honouring `prompt` at once for a client that does not.
 */
function sameOriginNavigation(site: string | string[] | undefined): boolean {
  return site === 'same-origin' || site === 'none';
}

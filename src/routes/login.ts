import type { FastifyInstance } from 'fastify';
import * as client from 'openid-client';
import { LOGIN_COOKIE_TTL_SEC, sealLoginState } from '../login/login-state.js';
import { cookieOptions, loginCookieName, sessionCookieName } from '../cookies/our-cookies.js';
import { cookieValues } from '../cookies/cookie-header.js';
import { resolveRedirectTarget } from '../login/redirect-target.js';
import type { RouteDeps } from './deps.js';
import { LoginLimit } from '../login/login-rate-limit.js';
import { MAX_LOGIN_REDIRECT_LENGTH } from '../request/login-url.js';
import { ingressOf, single } from '../request/request-facts.js';
import { fetchSite, ownSite } from '../request/fetch-metadata.js';
import { noStore, sendError } from '../errors/answers.js';
import { rejectNonNavigation } from './interactive.js';
import { claimsForLogin, parseClaimsRequest, type ClaimsRequest } from '../login/claims-request.js';
import { claimsFingerprint, steppedUpRecently } from '../login/step-up-memory.js';
import { acrValues } from '../config/settings.js';

const PROMPTS = new Set(['login', 'select_account']);

/**
 * `GET /oauth2/login?redirect=<path>`: starts the authorization-code flow with PKCE (S256), state and nonce,
 * kept in a sealed login cookie of their own so parallel logins in several tabs all complete. `claims` (a
 * step-up or an app's claims challenge, docs/step-up.md) is validated and sent on with the declared client
 * capabilities; the same claims asked again right after a login that asked for them answer 403 (no loop).
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
      // A claims request: validated (it comes from a link anyone can craft, or from the app's challenge).
      // A repeated `claims` is ambiguous: refused like a malformed one.
      const claimsParam = (q as Record<string, unknown> | undefined)?.claims;
      let claimsAsked: ClaimsRequest | undefined;
      let stepUp: string | undefined;
      if (claimsParam !== undefined) {
        const parsed = parseClaimsRequest(typeof claimsParam === 'string' ? claimsParam : '');
        if (!parsed.ok) {
          request.log.warn({ problem: parsed.problem }, 'login: the claims parameter is refused');
          return sendError(reply, 'LOGIN_CLAIMS_INVALID', { ingress });
        }
        claimsAsked = parsed.claims;
        stepUp = claimsFingerprint(parsed.json);
        // The memory counts only beside the session the step-up login created (its ticket, no store read).
        const cookie = request.headers.cookie;
        const ticket = d.manager.ticket(cookieValues(cookie, sessionCookieName(ingress)));
        if (steppedUpRecently(cookie, ingress, d.keyring, ticket?.id, stepUp, d.now())) {
          request.log.warn(
            { claimsFingerprint: stepUp },
            'login: the same claims were asked for right after a login that asked for them; answering 403, not looping',
          );
          return sendError(reply, 'STEP_UP_UNSATISFIED', { ingress });
        }
      }
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
        // until the new login completes, when the callback replaces it. A missing or empty Sec-Fetch-Site is not
        // our own site: every current browser sends it, and a session is worth more than honouring `prompt` at
        // once for a client that does not.
        if (ownSite(fetchSite(request.headers))) {
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
      // `level` as Wonderwall reads it, but Entra's discovery lists no acr_values_supported: then any well-formed
      // value goes on (Entra decides), else the configured default.
      // Read as VESTIBULE_ACR_VALUES is (the same parser): up to 8 space-separated NQCHAR tokens.
      const level = acrValuesOf(single(q, 'level'));
      const supported = d.provider.metadata.acrValuesSupported;
      if (level !== undefined && (supported.length === 0 || supported.includes(level))) {
        extra.acr_values = level;
      } else if (d.acrValues !== undefined) extra.acr_values = d.acrValues;
      const claims = claimsForLogin(claimsAsked, d.clientCapabilities ?? []);
      if (claims !== undefined) extra.claims = claims;

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
      const sealed = sealLoginState(d.keyring, name, { state, nonce, verifier, redirect, stepUp }, d.now());
      limit.save(reply, state);
      reply.setCookie(name, sealed, cookieOptions(ingress, 'login', LOGIN_COOKIE_TTL_SEC));
      request.log.debug(
        {
          authorizationEndpoint: url.origin + url.pathname,
          ingress: ingress.url,
          extra: Object.keys(extra),
          ...(stepUp === undefined ? {} : { claimsFingerprint: stepUp }),
        },
        'login: redirecting to the identity provider',
      );
      return noStore(reply).redirect(url.href, 302);
    },
  });
}

/** A well-formed `level` (as `acr_values`), else undefined. */
function acrValuesOf(level: string | undefined): string | undefined {
  if (!level) return undefined;
  const parsed = acrValues(level);
  return parsed.ok ? parsed.value : undefined;
}

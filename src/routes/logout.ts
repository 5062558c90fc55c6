import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as client from 'openid-client';
import type { Ingress } from '../config/ingress.js';
import { cookieValues } from '../cookies/cookie-header.js';
import { cookieOptions, LOGOUT_COOKIE, SESSION_COOKIE } from '../cookies/our-cookies.js';
import { LOGOUT_COOKIE_TTL_SEC, openLogoutState, sealLogoutState } from '../login/logout-state.js';
import { resolveRedirectTarget } from '../login/redirect-target.js';
import type { RouteDeps } from './deps.js';
import { ingressOf, single } from '../request/request-facts.js';
import { noStore, sendError } from '../errors/answers.js';
import { sidHash } from '../login/sid-hash.js';
import { rejectNonNavigation } from './interactive.js';

/**
 * `/oauth2/logout` (here and at the identity provider), `/oauth2/logout/callback` (back from it) and
 * `/oauth2/logout/local` (here only, 204 for scripts).
 */
export function logoutRoutes(app: FastifyInstance, prefix: string, d: RouteDeps): void {
  /** Ends the local session; returns its ID token (for id_token_hint). Throws when the store is down. */
  async function endLocal(
    request: FastifyRequest,
    reply: FastifyReply,
    ingress: Ingress,
    kind: 'self_initiated' | 'local',
  ): Promise<string | undefined> {
    // The cookie goes first: even if the store is down, this browser is logged out.
    reply.clearCookie(SESSION_COOKIE, cookieOptions(ingress, 'session'));
    const session = await d.manager.find(cookieValues(request.headers.cookie, SESSION_COOKIE));
    if (!session) {
      // Wonderwall counts every logout that did not fail, with a session or without one.
      d.metrics.observeWonderwallLogout(kind);
      return undefined;
    }
    await d.sessions.destroy(session);
    d.metrics.logouts.inc({ kind });
    d.metrics.observeWonderwallLogout(kind);
    request.log.info({ sidHash: sidHash(d.keyring, session.record.claims.sid), kind }, 'logout');
    return session.record.idToken ?? undefined;
  }

  app.route({
    method: ['GET', 'HEAD'],
    url: `${prefix}/oauth2/logout`,
    config: { routeClass: 'logout' },
    handler: async (request, reply) => {
      rejectNonNavigation(request);
      const ingress = ingressOf(request, d.ingresses);
      const redirect = resolveRedirectTarget(single(request.query, 'redirect'), ingress.path);
      let idToken: string | undefined;
      try {
        idToken = await endLocal(request, reply, ingress, 'self_initiated');
      } catch {
        return sendError(reply, 'LOGOUT_STORE_UNAVAILABLE', {
          ingress,
          retryUrl: `${ingress.routePrefix}/oauth2/logout`,
        });
      }
      const state = client.randomState();
      const params: Record<string, string> = {
        post_logout_redirect_uri: `${ingress.url}/oauth2/logout/callback`,
        state,
      };
      if (idToken) params.id_token_hint = idToken;
      const hint = single(request.query, 'logout_hint');
      if (hint && hint.length <= 512) params.logout_hint = hint;
      const endSession = d.provider.endSessionUrl(params);
      if (!endSession) return noStore(reply).redirect(redirect, 302);
      reply.setCookie(
        LOGOUT_COOKIE,
        sealLogoutState(d.keyring, { state, redirect }, d.now()),
        cookieOptions(ingress, 'logout', LOGOUT_COOKIE_TTL_SEC),
      );
      return noStore(reply).redirect(endSession.href, 302);
    },
  });

  app.get(`${prefix}/oauth2/logout/callback`, { config: { routeClass: 'logout' } }, async (request, reply) => {
    rejectNonNavigation(request);
    const ingress = ingressOf(request, d.ingresses);
    reply.clearCookie(LOGOUT_COOKIE, cookieOptions(ingress, 'logout'));
    const saved = openLogoutState(d.keyring, cookieValues(request.headers.cookie, LOGOUT_COOKIE)[0], d.now());
    const target = saved && saved.state === single(request.query, 'state') ? saved.redirect : ingress.path;
    return noStore(reply).redirect(resolveRedirectTarget(target, ingress.path), 302);
  });

  app.route({
    method: ['GET', 'HEAD', 'POST'],
    url: `${prefix}/oauth2/logout/local`,
    config: { routeClass: 'logout' },
    handler: async (request, reply) => {
      const ingress = ingressOf(request, d.ingresses);
      await endLocal(request, reply, ingress, 'local');
      return noStore(reply).code(204).send();
    },
  });
}

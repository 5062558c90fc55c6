import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as client from 'openid-client';
import type { Ingress } from '../config/ingress.js';
import { cookieValues } from '../cookies/cookie-header.js';
import { cookieOptions, logoutCookieName, sessionCookieName } from '../cookies/our-cookies.js';
import { LOGOUT_COOKIE_TTL_SEC, openLogoutState, sealLogoutState } from '../login/logout-state.js';
import { resolveRedirectTarget } from '../login/redirect-target.js';
import type { RouteDeps } from './deps.js';
import { ingressOf, single } from '../request/request-facts.js';
import { noStore, sendError } from '../errors/answers.js';
import { sidHash } from '../login/sid-hash.js';
import { rejectNonNavigation } from './interactive.js';
import { fetchSite, otherSite, siteSent } from '../request/fetch-metadata.js';

/**
 * Whether `/oauth2/logout/local` may end the session (logout CSRF): another site's link, image, redirect or
 * form must not log users out. Fetch Metadata, when sent, must say same-origin or none, and an `Origin`, when
 * sent, must be the ingress's. A GET must carry Fetch Metadata (a GET without it cannot be told from another
 * site's link in an older browser); a POST without either comes from a script or server, not a browser
 * (browsers send `Origin` on every POST, and SameSite=Lax keeps our cookie off cross-site ones anyway).
 */
function localLogoutAllowed(request: FastifyRequest, ingress: Ingress): boolean {
  const site = fetchSite(request.headers);
  // An empty header says as little as none at all: a GET with it is refused, a POST judged on its Origin.
  if (otherSite(site)) return false;
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== ingress.origin) return false;
  return request.method === 'POST' || siteSent(site);
}

/**
 * A navigation another site started (`/oauth2/logout`): asked to confirm instead of logged out. A value no browser
 * sends (two values, an unknown one) counts as another site's too; without the header (an old browser, curl) the
 * logout goes ahead, as it always could by typing the URL.
 */
function fromAnotherSite(request: FastifyRequest): boolean {
  return otherSite(fetchSite(request.headers));
}

/**
 * `/oauth2/logout` (here and at the identity provider), `/oauth2/logout/callback` (back from it) and
 * `/oauth2/logout/local` (here only, 204 for scripts). Neither ends a session at another site's request: see
 * {@link localLogoutAllowed} and {@link fromAnotherSite}.
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
    reply.clearCookie(sessionCookieName(ingress), cookieOptions(ingress, 'session'));
    const session = await d.manager.find(cookieValues(request.headers.cookie, sessionCookieName(ingress)));
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
      if (fromAnotherSite(request)) {
        // A cross-site link logging users out is a nuisance CSRF: confirm with a button on our own origin.
        const again = new URLSearchParams();
        for (const name of ['redirect', 'logout_hint']) {
          const value = single(request.query, name);
          if (value !== undefined) again.set(name, value);
        }
        const query = again.toString();
        return sendError(reply, 'LOGOUT_CONFIRM', {
          ingress,
          retryUrl: `${ingress.routePrefix}/oauth2/logout${query ? `?${query}` : ''}`,
        });
      }
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
        logoutCookieName(ingress),
        sealLogoutState(d.keyring, logoutCookieName(ingress), { state, redirect }, d.now()),
        cookieOptions(ingress, 'logout', LOGOUT_COOKIE_TTL_SEC),
      );
      return noStore(reply).redirect(endSession.href, 302);
    },
  });

  app.get(`${prefix}/oauth2/logout/callback`, { config: { routeClass: 'logout' } }, async (request, reply) => {
    rejectNonNavigation(request);
    const ingress = ingressOf(request, d.ingresses);
    const name = logoutCookieName(ingress);
    reply.clearCookie(name, cookieOptions(ingress, 'logout'));
    const saved = openLogoutState(d.keyring, name, cookieValues(request.headers.cookie, name)[0], d.now());
    const target = saved && saved.state === single(request.query, 'state') ? saved.redirect : ingress.path;
    return noStore(reply).redirect(resolveRedirectTarget(target, ingress.path), 302);
  });

  app.route({
    method: ['GET', 'HEAD', 'POST'],
    url: `${prefix}/oauth2/logout/local`,
    config: { routeClass: 'logout' },
    handler: async (request, reply) => {
      const ingress = ingressOf(request, d.ingresses);
      if (!localLogoutAllowed(request, ingress)) return sendError(reply, 'LOGOUT_CROSS_SITE');
      await endLocal(request, reply, ingress, 'local');
      return noStore(reply).code(204).send();
    },
  });
}

import type { FastifyInstance } from 'fastify';
import { cookieOptions, SESSION_COOKIE } from '../cookies/our-cookies.js';
import { noStore, sendError } from '../errors/answers.js';
import { completeLogin } from '../login/complete-login.js';
import { resolveRedirectTarget } from '../login/redirect-target.js';
import { sidHash } from '../login/sid-hash.js';
import { ingressOf } from '../request/request-facts.js';
import { queryOf } from '../request/request-target.js';
import type { RouteDeps } from './deps.js';
import { rejectNonNavigation } from './interactive.js';

/**
 * `GET /oauth2/callback`: the protocol steps are {@link completeLogin}'s; here the request is read, the login
 * cookie cleared, and the outcome answered: the new session's cookie and a redirect, or the registry's page.
 */
export function callbackRoute(app: FastifyInstance, prefix: string, d: RouteDeps): void {
  app.get(`${prefix}/oauth2/callback`, { config: { routeClass: 'callback' } }, async (request, reply) => {
    rejectNonNavigation(request);
    const ingress = ingressOf(request, d.ingresses);
    const result = await completeLogin(
      {
        query: request.query as Record<string, unknown>,
        cookieHeader: request.headers.cookie,
        callbackUrl: () => new URL(`${ingress.url}/oauth2/callback?${queryOf(request.url)}`),
        log: request.log,
        spendLoginCookie: (name) => {
          reply.clearCookie(name, cookieOptions(ingress, 'login'));
        },
      },
      d,
    );
    d.metrics.logins.inc({ outcome: result.outcome });
    if (!result.ok) {
      const retry = `${ingress.routePrefix}/oauth2/login`;
      return sendError(reply, result.code, {
        ingress,
        detail: result.detail,
        retryUrl: result.redirect === undefined ? retry : `${retry}?redirect=${encodeURIComponent(result.redirect)}`,
      });
    }
    d.metrics.observeWonderwallLogin(result.amr, result.redirect);
    reply.setCookie(SESSION_COOKIE, result.cookieValue, cookieOptions(ingress, 'session'));
    request.log.info({ sidHash: sidHash(d.keyring, result.claims.sid), oid: result.claims.oid }, 'login completed');
    return noStore(reply).redirect(resolveRedirectTarget(result.redirect, ingress.path), 302);
  });
}

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { cookieOptions, sessionCookieName } from '../cookies/our-cookies.js';
import { noStore, sendError } from '../errors/answers.js';
import { completeLogin } from '../login/complete-login.js';
import { resolveRedirectTarget } from '../login/redirect-target.js';
import { sidHash } from '../login/sid-hash.js';
import { rememberStepUp } from '../login/step-up-memory.js';
import { ingressOf } from '../request/request-facts.js';
import { queryOf } from '../request/request-target.js';
import { spanOf } from '../tracing/request-spans.js';
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
        ingress,
        callbackUrl: () => new URL(`${ingress.url}/oauth2/callback?${queryOf(request.url)}`),
        log: request.log,
        takeRedeemSlot: () => d.callbackThrottle.take(clientAddress(request, d)),
        spendLoginCookie: (name) => {
          reply.clearCookie(name, cookieOptions(ingress, 'login'));
        },
      },
      d,
    );
    d.metrics.logins.inc({ outcome: result.outcome });
    spanOf(request).setAttribute('vestibule.login.outcome', result.outcome);
    if (!result.ok) {
      if (result.throttled) {
        d.metrics.callbackThrottled.inc({ scope: result.throttled });
        request.log.warn({ scope: result.throttled }, 'callback throttled before the token endpoint');
      }
      const retry = `${ingress.routePrefix}/oauth2/login`;
      return sendError(reply, result.code, {
        ingress,
        detail: result.detail,
        retryUrl: result.redirect === undefined ? retry : `${retry}?redirect=${encodeURIComponent(result.redirect)}`,
      });
    }
    d.metrics.observeWonderwallLogin(result.amr, result.redirect);
    if (result.cookieTossingSuspected) {
      // Never a cookie value: only that a sibling (or another path on the host) planted a session of its own.
      d.metrics.cookieTossing.inc();
      request.log.warn(
        { oid: result.claims.oid },
        'cookie tossing suspected: the login carried more than one valid session cookie; the planted one stays beside ours (another domain or path), so this browser will have no session',
      );
    }
    reply.setCookie(sessionCookieName(ingress), result.cookieValue, cookieOptions(ingress, 'session'));
    // A step-up login: if the app still asks for the same claims, the next login answers 403 instead of looping.
    // The memory is MAC'd and bound to the session just created: planted or moved, it is no memory.
    if (result.stepUp !== undefined) {
      rememberStepUp(reply, ingress, d.keyring, result.stepUp, result.ticketId, d.now());
    }
    request.log.info({ sidHash: sidHash(d.keyring, result.claims.sid), oid: result.claims.oid }, 'login completed');
    return noStore(reply).redirect(resolveRedirectTarget(result.redirect, ingress.path), 302);
  });
}

/**
 * The client the throttle counts: the socket peer, or, when that is a trusted proxy, the last address its
 * `X-Forwarded-For` names (the one it appended itself). With no trusted proxies configured the throttle keeps
 * no per-address bucket (the peer may be the ingress controller, shared by every user): only the global one.
 */
function clientAddress(request: FastifyRequest, d: RouteDeps): string {
  const peer = request.socket.remoteAddress ?? '';
  if (!d.isTrustedPeer?.(peer)) return peer;
  const header = request.headers['x-forwarded-for'];
  const joined = Array.isArray(header) ? header.join(',') : (header ?? '');
  const last = joined.split(',').at(-1)?.trim();
  return last === undefined || last === '' ? peer : last;
}

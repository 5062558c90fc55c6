import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { cookieValues } from '../cookies/cookie-header.js';
import { sessionCookieName } from '../cookies/our-cookies.js';
import { ingressOf } from '../request/request-facts.js';
import { isActive } from '../session/policy.js';
import type { RouteDeps } from './deps.js';
import { forwardAuthRoute } from './forward-auth.js';
import { noStore, sendError } from '../errors/answers.js';

/**
 * `GET /oauth2/session` (metadata, never refreshes), `GET|POST /oauth2/session/refresh` (refresh now, subject to
 * the cooldown) and, when enabled, `GET /oauth2/session/forwardauth` (204 or 401, without the token) — the
 * shapes Wonderwall answers with, so frontends and ingress set-ups can switch without change.
 */
export function sessionRoutes(app: FastifyInstance, prefix: string, d: RouteDeps, forwardAuth: boolean): void {
  const unauthorized = (reply: FastifyReply): FastifyReply => sendError(reply, 'SESSION_UNAUTHENTICATED');
  const values = (request: FastifyRequest) =>
    cookieValues(request.headers.cookie, sessionCookieName(ingressOf(request, d.ingresses)));
  const find = (request: FastifyRequest) => d.manager.find(values(request));

  app.get(`${prefix}/oauth2/session`, { config: { routeClass: 'session' } }, async (request, reply) => {
    const session = await find(request);
    if (!session) return unauthorized(reply);
    // An inactive session still answers 200 with active:false, so the frontend can say why.
    return noStore(reply).send(d.manager.metadata(session));
  });

  app.route({
    method: ['GET', 'POST'],
    url: `${prefix}/oauth2/session/refresh`,
    config: { routeClass: 'session' },
    handler: async (request, reply) => {
      const session = await find(request);
      if (!session || !isActive(session.record, d.now())) return unauthorized(reply);
      const outcome = await d.manager.refreshNow(session);
      if (outcome.kind === 'ended') return unauthorized(reply);
      if (outcome.kind === 'kept') {
        // When the IdP will be asked again (the client's or this session's back-off), else the entry's default.
        const waitSec = outcome.retryAt === undefined ? undefined : Math.ceil((outcome.retryAt - d.now()) / 1000);
        return sendError(
          reply,
          'SESSION_REFRESH_UNAVAILABLE',
          waitSec === undefined ? {} : { headers: { 'retry-after': String(Math.max(1, waitSec)) } },
        );
      }
      return noStore(reply).send(d.manager.metadata(outcome.session));
    },
  });

  // The public port never answers the token: page script could read it (see forward-auth.ts).
  if (forwardAuth) forwardAuthRoute(app, `${prefix}/oauth2/session/forwardauth`, d, 'browser');
}

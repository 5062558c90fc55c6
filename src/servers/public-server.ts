import fastifyCookie from '@fastify/cookie';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { isVestibuleError } from '../errors/registry.js';
import { noStore } from '../errors/answers.js';
import type { AccessLog } from '../observability/access-log.js';
import { lazyChildLoggers } from '../observability/lazy-child.js';
import type { Metrics } from '../observability/metrics.js';
import { registerRequestHooks } from '../observability/request-hooks.js';
import { requestId } from '../observability/request-log.js';
import { guardBodyStall } from '../proxy/body-stall.js';
import { proxyPlugin, type ProxyDeps } from '../proxy/plugin.js';
import { callbackRoute } from '../routes/callback.js';
import type { RouteDeps } from '../routes/deps.js';
import { frontchannelLogoutRoute } from '../routes/frontchannel-logout.js';
import { loginRoute } from '../routes/login.js';
import { logoutRoutes } from '../routes/logout.js';
import { sessionRoutes } from '../routes/session.js';

export interface PublicServerDeps {
  readonly log: FastifyBaseLogger;
  /** Writes the per-request access line; the request's logger when omitted. */
  readonly accessLogger?: AccessLog | undefined;
  readonly metrics: Metrics;
  readonly routes: RouteDeps;
  readonly forwardAuth: boolean;
  readonly proxy: ProxyDeps;
}

/**
 * The public listener: `/oauth2/*` under each ingress path, and the reverse proxy for everything else.
 * Returned without listening.
 */
export async function buildPublicServer(d: PublicServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: d.log,
    // Fastify's own per-request lines are off: registerRequestHooks writes one safe line per request instead.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyChildLoggers,
    genReqId: requestId,
    requestIdHeader: false,
    // Keep-alive longer than typical load-balancer idle timeouts, headers bounded (slowloris).
    keepAliveTimeout: 65_000,
    connectionTimeout: 0,
    // A whole request (headers and body) must arrive within 5 minutes (Node's default), so a stalled upload
    // cannot hold a connection forever; headers alone within 15 s, checked every 2 s (slowloris).
    requestTimeout: 300_000,
    http: { headersTimeout: 15_000, maxHeaderSize: 32 * 1024, connectionsCheckingInterval: 2_000 },
    routerOptions: { maxParamLength: 2048 },
    return503OnClosing: true,
  });
  registerRequestHooks(app, { access: d.accessLogger, metrics: d.metrics, onRequest: guardBodyStall });
  // request.cookies is never read (the session cookie is parsed on its own, tolerant of duplicates), so
  // no per-request parsing hook; replies still serialise reply.setCookie.
  await app.register(fastifyCookie, { hook: false });
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (isVestibuleError(err)) {
      if (err.status >= 500)
        request.log.error({ failure: { errorCode: err.code, message: err.message } }, 'request failed');
      else request.log.info({ failure: { errorCode: err.code, message: err.message } }, 'request rejected');
      const body =
        err.code === 'NOT_NAVIGATION'
          ? { error: 'unauthenticated', error_description: err.message, error_path: err.detail }
          : { error: err.code.toLowerCase(), error_description: err.message };
      return noStore(reply).code(err.status).send(body);
    }
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) request.log.error({ err }, 'unexpected error');
    return reply.code(status).send({ error: status >= 500 ? 'internal_error' : 'bad_request', request_id: request.id });
  });

  const prefixes = [...new Set(d.routes.ingresses.map((i) => i.routePrefix))];
  for (const prefix of prefixes) {
    loginRoute(app, prefix, d.routes);
    callbackRoute(app, prefix, d.routes);
    logoutRoutes(app, prefix, d.routes);
    frontchannelLogoutRoute(app, prefix, d.routes);
    sessionRoutes(app, prefix, d.routes, d.forwardAuth);
    // vestibule owns the whole /oauth2 subtree of each ingress: unknown paths there never reach the app.
    app.all(`${prefix}/oauth2/*`, { config: { routeClass: 'other' } }, (_request, reply) =>
      noStore(reply).code(404).send({ error: 'not_found' }),
    );
  }
  await app.register(proxyPlugin, d.proxy);
  return app;
}

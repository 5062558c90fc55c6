import fastifyCookie from '@fastify/cookie';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { NO_SCHEMA_COMPILERS } from '../request/no-schemas.js';
import { sendError } from '../errors/answers.js';
import { vestibuleErrorHandler } from '../errors/error-handler.js';
import type { AccessLog } from '../observability/access-log.js';
import { lazyChildLoggers } from '../observability/lazy-child.js';
import type { Metrics } from '../observability/metrics.js';
import { registerRequestHooks } from '../observability/request-hooks.js';
import { knownHosts } from '../observability/request-metrics.js';
import { requestId } from '../observability/request-log.js';
import { guardBodyStall } from '../proxy/body-stall.js';
import { proxyPlugin, type ProxyDeps } from '../proxy/plugin.js';
import { callbackRoute } from '../routes/callback.js';
import type { RouteDeps } from '../routes/deps.js';
import { frontchannelLogoutRoute } from '../routes/frontchannel-logout.js';
import { loginRoute } from '../routes/login.js';
import { pingRoute } from '../routes/ping.js';
import { logoutRoutes } from '../routes/logout.js';
import { sessionRoutes } from '../routes/session.js';
import { userinfoRoute } from '../routes/userinfo.js';
import type { Tracer } from '../tracing/tracer.js';

export interface PublicServerDeps {
  readonly log: FastifyBaseLogger;
  /** Writes the per-request access line; the request's logger when omitted. */
  readonly accessLogger?: AccessLog | undefined;
  readonly metrics: Metrics;
  readonly routes: RouteDeps;
  readonly forwardAuth: boolean;
  readonly proxy: ProxyDeps;
  /** A server span per request while tracing is on (the proxy's upstream spans take theirs from `proxy`). */
  readonly tracer?: Tracer | undefined;
}

/**
 * The public listener: `/oauth2/*` under each ingress path, and the reverse proxy for everything else.
 * Returned without listening.
 */
export async function buildPublicServer(d: PublicServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...NO_SCHEMA_COMPILERS,
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
  const unfinished = registerRequestHooks(app, {
    access: d.accessLogger,
    metrics: d.metrics,
    onRequest: guardBodyStall,
    wonderwallHosts: knownHosts(d.routes.ingresses.map((i) => i.host)),
    tracer: d.tracer,
  });
  // request.cookies is never read (the session cookie is parsed on its own, tolerant of duplicates), so
  // no per-request parsing hook; replies still serialise reply.setCookie.
  await app.register(fastifyCookie, { hook: false });
  app.setErrorHandler(vestibuleErrorHandler);

  const prefixes = [...new Set(d.routes.ingresses.map((i) => i.routePrefix))];
  for (const prefix of prefixes) {
    loginRoute(app, prefix, d.routes);
    callbackRoute(app, prefix, d.routes);
    logoutRoutes(app, prefix, d.routes);
    frontchannelLogoutRoute(app, prefix, d.routes);
    sessionRoutes(app, prefix, d.routes, d.forwardAuth);
    userinfoRoute(app, prefix, d.routes);
    pingRoute(app, prefix);
    // vestibule owns the whole /oauth2 subtree of each ingress: unknown paths there never reach the app.
    app.all(`${prefix}/oauth2/*`, { config: { routeClass: 'other' } }, (_request, reply) =>
      sendError(reply, 'OAUTH2_NOT_FOUND'),
    );
  }
  await app.register(proxyPlugin, { ...d.proxy, recordUnfinished: unfinished });
  return app;
}

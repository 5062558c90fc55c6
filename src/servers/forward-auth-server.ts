import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { NO_SCHEMA_COMPILERS } from '../request/no-schemas.js';
import { sendError } from '../errors/answers.js';
import { vestibuleErrorHandler } from '../errors/error-handler.js';
import type { Metrics } from '../observability/metrics.js';
import { registerRequestHooks } from '../observability/request-hooks.js';
import type { Tracer } from '../tracing/tracer.js';
import { knownHosts } from '../observability/request-metrics.js';
import { requestId } from '../observability/request-log.js';
import type { RequireToken } from '../access/require-token.js';
import { forwardAuthRoute } from '../routes/forward-auth.js';
import type { SessionManager } from '../session/manager.js';
import type { Ingress } from '../config/ingress.js';

/**
 * The forward-auth listener (VESTIBULE_FORWARD_AUTH_BIND_ADDRESS): the one place that answers a session's
 * token in a response header, for the ingress controller's subrequest. Its own instance on its own port, which
 * the ingress never routes to, so no browser (and no page script) can ask it. Returned without listening.
 */
export function buildForwardAuthServer(d: {
  readonly log: FastifyBaseLogger;
  readonly metrics: Metrics;
  readonly manager: SessionManager;
  readonly ingresses: readonly Ingress[];
  /** VESTIBULE_FORWARD_AUTH_SET_HEADERS: the 204 carries the ID token as X-Wonderwall-Forward-Auth-Token. */
  readonly setHeaders?: boolean | undefined;
  /** The protected-path rules, judged on the guarded request's path (X-Original-URI) for a session. */
  readonly requireToken?: RequireToken | undefined;
  /** A server span per request while tracing is on. */
  readonly tracer?: Tracer | undefined;
}): FastifyInstance {
  const app = Fastify({
    ...NO_SCHEMA_COMPILERS,
    loggerInstance: d.log,
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: requestId,
    requestIdHeader: false,
    keepAliveTimeout: 65_000,
    return503OnClosing: true,
    http: { headersTimeout: 15_000, maxHeaderSize: 32 * 1024 },
  });
  // Wonderwall counts its forward-auth endpoint in requests_total: so does this listener.
  registerRequestHooks(app, {
    metrics: d.metrics,
    wonderwallHosts: knownHosts(d.ingresses.map((i) => i.host)),
    tracer: d.tracer,
  });
  app.setErrorHandler(vestibuleErrorHandler);
  app.setNotFoundHandler((_request, reply) => sendError(reply, 'FORWARD_AUTH_NOT_FOUND'));
  forwardAuthRoute(app, '/oauth2/session/forwardauth', d, 'ingress');
  return app;
}

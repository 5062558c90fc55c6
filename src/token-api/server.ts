import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { NO_SCHEMA_COMPILERS } from '../request/no-schemas.js';
import type { IdentityProvider } from '../oidc/provider.js';
import type { Metrics } from '../observability/metrics.js';
import { registerRequestHooks } from '../observability/request-hooks.js';
import type { Tracer } from '../tracing/tracer.js';
import { requestId } from '../observability/request-log.js';
import { sendError } from '../errors/answers.js';
import { fetchSite, hasOrigin, otherSite } from '../request/fetch-metadata.js';
import { errorResponse, invalidRequest, type ErrorResponse } from './api-error.js';
import type { PreAuthorizedApp } from '../config/settings.js';
import { registerIntrospectRoute } from './introspect-route.js';
import { isLoopbackName } from '../config/loopback.js';
import { registerBodyParsers, unsupportedMediaType } from './request-body.js';
import { TokenCache } from './token-cache.js';
import { registerTokenRoutes } from './token-routes.js';

export interface TokenApiDeps {
  readonly provider: IdentityProvider;
  readonly clientId: string;
  /** pino instance; the listener logs as a child with `listener: "token"`. */
  readonly logger: FastifyBaseLogger;
  /** Epoch ms, for the token caches. */
  readonly now?: () => number;
  /** Bound of each token cache (client credentials, on-behalf-of); default 10 000. */
  readonly cacheMaxEntries?: number;
  /** Cache and request metrics; none recorded when omitted. */
  readonly metrics?: Metrics;
  /** AZURE_APP_PRE_AUTHORIZED_APPS, for introspection's `azp_name`. */
  readonly preAuthorizedApps?: readonly PreAuthorizedApp[] | undefined;
  /** A server span per request while tracing is on. */
  readonly tracer?: Tracer | undefined;
}

/** Large enough for a user token with many groups, small enough that a body is never a memory problem. */
const BODY_LIMIT = 128 * 1024;

/**
 * The token API listener (Texas-compatible): `POST /api/v1/token`, `/api/v1/token/exchange`,
 * `/api/v1/introspect`, plus `GET /healthz`. Its own Fastify instance because it listens on a loopback-only
 * address of its own and must never be reachable through the public port. Returned without listening.
 */
export async function buildTokenApi(deps: TokenApiDeps): Promise<FastifyInstance> {
  const now = deps.now ?? Date.now;
  const cacheOptions = { now, maxEntries: deps.cacheMaxEntries ?? 10_000 };
  const metrics = deps.metrics;
  const instrumentedCache = (cache: 'token' | 'exchange'): TokenCache => {
    const c: TokenCache = new TokenCache({
      ...cacheOptions,
      onLookup: (result) => {
        metrics?.tokenCacheLookups.inc({ cache, result });
        metrics?.tokenCacheSize.set({ cache }, c.size);
      },
    });
    return c;
  };
  const app = Fastify({
    ...NO_SCHEMA_COMPILERS,
    loggerInstance: deps.logger.child({ listener: 'token' }),
    // One line per request comes from registerRequestHooks; Fastify's own pair of lines is turned off.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: requestId,
    requestIdHeader: false,
    bodyLimit: BODY_LIMIT,
    return503OnClosing: true,
    http: { headersTimeout: 15_000, maxHeaderSize: 32 * 1024 },
  });
  registerRequestHooks(app, { metrics, tracer: deps.tracer });
  // Before any body is read: the API answers the app's server-side client only, never a browser.
  app.addHook('onRequest', (request, reply, done) => {
    if (!loopbackHost(request.headers.host, request.socket.localPort)) {
      request.log.warn({ reason: 'host' }, 'token API request refused: not a loopback Host');
      void sendError(reply, 'TOKEN_MISDIRECTED');
      return;
    }
    if (fromBrowserPage(request.headers)) {
      request.log.warn({ reason: 'browser' }, 'token API request refused: sent by a web page');
      void sendError(reply, 'TOKEN_BROWSER_REQUEST');
      return;
    }
    done();
  });
  registerBodyParsers(app);

  // Token responses must never be cached by anything between the app and us (RFC 6749 §5.1).
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const res = errorResponse(fastifyClientError(err, request.headers['content-type']) ?? err);
    if (res.ours) request.log.error({ failure: safeError(err) }, 'token API request failed');
    else if (res.status >= 500) request.log.warn({ idpError: res.body.error, status: res.status }, 'IdP error');
    else request.log.info({ error: res.body.error, status: res.status }, 'token API request rejected');
    return sendTokenApiError(reply, res);
  });
  app.setNotFoundHandler((_request, reply) => sendError(reply, 'TOKEN_NO_ENDPOINT'));

  registerTokenRoutes(app, {
    provider: deps.provider,
    clientId: deps.clientId,
    tokens: instrumentedCache('token'),
    exchanges: instrumentedCache('exchange'),
  });
  registerIntrospectRoute(app, {
    validator: deps.provider.validator,
    clientId: deps.clientId,
    callerNames: new Map((deps.preAuthorizedApps ?? []).map((a) => [a.clientId, a.name])),
  });
  app.get('/healthz', { config: { routeClass: 'token' } }, (_request, reply) => reply.send('ok\n'));
  return app;
}

/**
 * True when `Host` names this listener by a loopback name with its port: `127.x.x.x`, `[::1]` or `localhost`.
 * Any other name that reaches a loopback socket was resolved there by someone's DNS: a web page re-binding
 * its own name to 127.0.0.1 to read the answers (DNS rebinding), which the browser sends with that name.
 */
export function loopbackHost(host: string | undefined, port: number | undefined): boolean {
  if (host === undefined || port === undefined) return false;
  const m = /^(.+):(\d{1,5})$/.exec(host.trim().toLowerCase());
  if (!m || Number(m[2]) !== port) return false;
  return isLoopbackName(m[1] ?? '');
}

/**
 * True when a web page sent the request: an `Origin` header (a form post or fetch; Texas's clients are
 * server-side and send none), or Fetch Metadata saying another site (`Sec-Fetch-Site` other than
 * `same-origin` or `none`). A page cannot remove either.
 */
function fromBrowserPage(headers: FastifyRequest['headers']): boolean {
  if (hasOrigin(headers)) return true;
  // An empty header is read as not sent: only a value, and one other than our own site's, marks a page.
  return otherSite(fetchSite(headers));
}

/** Fastify's own 4xx errors (no parser for the media type, body too large …) in Texas' `invalid_request` shape. */
function fastifyClientError(err: FastifyError, contentType: string | undefined): Error | undefined {
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return unsupportedMediaType(contentType);
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return invalidRequest(`the body is larger than ${BODY_LIMIT} bytes`);
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return invalidRequest('the request could not be read');
  }
  return undefined;
}

/**
 * What is logged of an unexpected error: code and message (ours never carry tokens), never the cause chain.
 * The key is `errorCode`, not `code`: the logger redacts every `*.code` (authorization codes).
 */
function safeError(err: unknown): { errorCode?: string; message: string } {
  if (err instanceof Error) return { errorCode: (err as { code?: string }).code, message: err.message };
  return { message: String(err) };
}

/** An {@link errorResponse} sent through the registry (Entra's status and error kept for TOKEN_IDP_ERROR). */
function sendTokenApiError(reply: FastifyReply, res: ErrorResponse): FastifyReply {
  const passThrough = res.code === 'TOKEN_IDP_ERROR';
  return sendError(reply, res.code, {
    as: 'json',
    detail: res.body.error_description,
    ...(passThrough ? { status: res.status, error: res.body.error } : {}),
    fields: { claims: res.body.claims },
  });
}

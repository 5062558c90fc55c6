import fastifyHttpProxy from '@fastify/http-proxy';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Ingress } from '../config/ingress.js';
import { isVestibuleError } from '../errors.js';
import { cookieValues } from '../http/cookie-header.js';
import { cookieOptions, SESSION_COOKIE } from '../http/cookies.js';
import { loginResponseKind, wantsJson } from '../http/navigation.js';
import { compilePathGlobs, normalizePath } from '../http/path-match.js';
import { upstreamHeaders } from '../http/upstream-headers.js';
import type { Metrics } from '../observability/metrics.js';
import type { RequireToken } from './require-token.js';
import { ingressOf, pathOf, sendErrorPage } from '../routes/request-info.js';
import type { SessionManager } from '../session/manager.js';

export interface ProxyDeps {
  readonly upstream: string;
  readonly upstreamTimeoutMs: number;
  readonly ingresses: readonly Ingress[];
  readonly manager: SessionManager;
  readonly autoLogin: boolean;
  /** Globs exempt from auto-login; /favicon.ico and /robots.txt are always added. */
  readonly autoLoginIgnorePaths: readonly string[];
  readonly isTrustedPeer: (address: string | undefined) => boolean;
  /** Protected paths (VESTIBULE_REQUIRE_TOKEN_PATHS), or undefined when none are configured. */
  readonly requireToken?: RequireToken | undefined;
  readonly metrics: Metrics;
}

/** Per-request authentication result, set by the pre-handler and read when the upstream headers are built. */
interface ProxyAuth {
  accessToken: string | undefined;
  ingress: Ingress;
  /** When the request was handed to the app (for the upstream latency histogram). */
  sentAt?: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    proxyAuth: ProxyAuth | null;
  }
}

// The ws client sets these itself for the upstream handshake; copying the browser's would break it.
const WS_OWN_HEADERS = new Set(['host', 'connection', 'upgrade', 'content-length', 'transfer-encoding', 'keep-alive']);

/**
 * Everything outside /oauth2 goes to the app, streamed both ways (bodies are never buffered) and websockets
 * included, with the session's access token as `Authorization: Bearer`, our cookies removed and forwarding
 * headers set by us.
 */
export async function proxyPlugin(app: FastifyInstance, d: ProxyDeps): Promise<void> {
  app.decorateRequest('proxyAuth', null);
  const ignored = compilePathGlobs(['/favicon.ico', '/robots.txt', ...d.autoLoginIgnorePaths]);

  const headersFor = (request: FastifyRequest): Record<string, string | string[]> => {
    const auth = request.proxyAuth ?? { accessToken: undefined, ingress: ingressOf(request, d.ingresses) };
    const remote = request.socket.remoteAddress ?? '';
    return upstreamHeaders(request.headers, {
      accessToken: auth.accessToken,
      remoteAddress: remote,
      trustedPeer: d.isTrustedPeer(remote),
      proto: auth.ingress.secure ? 'https' : 'http',
      host: auth.ingress.host,
      requestId: request.id,
      traceparent: request.traceparent,
    });
  };

  await app.register(fastifyHttpProxy, {
    upstream: d.upstream,
    prefix: '/',
    websocket: true,
    config: { routeClass: 'proxy' },
    preHandler: (request, reply, done) => {
      authenticate(request, reply, d, ignored).then(() => done(), done);
    },
    // reply-from logs every request at info otherwise; we log one line per request ourselves.
    disableRequestLogging: true,
    undici: {
      connections: 256,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: d.upstreamTimeoutMs,
      bodyTimeout: d.upstreamTimeoutMs,
      connect: { timeout: 5_000 },
    },
    replyOptions: {
      // The inbound Host is kept (it is not in the spoofable list): the app sees the name the browser used.
      rewriteRequestHeaders: (request) => {
        const r = request as FastifyRequest;
        if (r.proxyAuth) r.proxyAuth.sentAt = performance.now();
        return headersFor(r);
      },
      // Called when the app's response headers arrive: the time the app took to answer.
      rewriteHeaders: (headers, request) => {
        const sentAt = (request as FastifyRequest).proxyAuth?.sentAt;
        if (sentAt !== undefined) d.metrics.upstreamDuration.observe((performance.now() - sentAt) / 1000);
        return headers;
      },
      // No retries: replaying a request the app may have seen is not a proxy's call.
      retryDelay: () => null,
      onError: (reply, { error }) => {
        const timedOut = (error as { statusCode?: number }).statusCode === 504;
        d.metrics.upstreamErrors.inc({ kind: timedOut ? 'timeout' : 'unreachable' });
        upstreamFailed(reply as FastifyReply, timedOut);
      },
    },
    wsHooks: {
      onConnect: () => d.metrics.websockets.inc(),
      onDisconnect: () => d.metrics.websockets.dec(),
    },
    wsClientOptions: {
      rewriteRequestHeaders: (_headers: unknown, request: FastifyRequest) => {
        const h = headersFor(request);
        return Object.fromEntries(
          Object.entries(h).filter(([name]) => !WS_OWN_HEADERS.has(name) && !name.startsWith('sec-websocket-')),
        );
      },
    } as Record<string, unknown>,
  });
}

async function authenticate(
  request: FastifyRequest,
  reply: FastifyReply,
  d: ProxyDeps,
  ignored: (path: string | null) => boolean,
): Promise<void> {
  const ingress = ingressOf(request, d.ingresses);
  const rawPath = pathOf(request.url);
  // Browsers resolve dot segments before sending; a raw one would make our path rules and the app's router
  // disagree about which resource this is (the skip-route bypass class of CVE-2025-54576).
  // The Host is passed on to the app; one that is not a host[:port] is refused here rather than by the client
  // library towards the app (which would look like the app being down).
  const host = request.headers.host;
  if (host !== undefined && !HOST.test(host)) {
    await reply.code(400).send({ error: 'bad_request', error_description: 'invalid Host header' });
    return;
  }
  if (hasDotSegment(rawPath)) {
    await reply.code(400).send({ error: 'bad_request', error_description: 'dot segments are not allowed in the path' });
    return;
  }
  let accessToken: string | undefined;
  try {
    const active = await d.manager.authenticate(cookieValues(request.headers.cookie, SESSION_COOKIE));
    accessToken = active?.accessToken;
    if (active?.renewedCookie) reply.setCookie(SESSION_COOKIE, active.renewedCookie, cookieOptions(ingress, 'session'));
  } catch (err) {
    if (!isVestibuleError(err) || err.code !== 'STORE_UNAVAILABLE') throw err;
    request.log.error({ failure: { errorCode: err.code, message: err.message } }, 'session store unavailable');
    // Without auto-login the app decides (the request goes on unauthenticated); with it, a login loop would
    // not help while the store is down.
    if (d.autoLogin) {
      await reply.code(503).header('retry-after', '5').send({ error: 'session store unavailable, please retry' });
      return;
    }
  }
  request.proxyAuth = { accessToken, ingress };
  if (d.requireToken) {
    const decision = await d.requireToken(request.url, request.headers.authorization, accessToken);
    if (decision.protected && decision.ok !== true) {
      reply.code(decision.status ?? 401).header('cache-control', 'no-store');
      if (decision.wwwAuthenticate) reply.header('www-authenticate', decision.wwwAuthenticate);
      await reply.send({
        error: decision.status === 403 ? 'insufficient_scope' : 'invalid_token',
        error_description: decision.reason,
      });
      return;
    }
    if (decision.protected) return;
  }
  if (accessToken !== undefined || !d.autoLogin || ignored(normalizePath(rawPath))) return;

  const loginUrl = `${ingress.routePrefix}/oauth2/login`;
  if (loginResponseKind(request.method, request.headers) === 'redirect') {
    await reply.redirect(`${loginUrl}?redirect=${encodeURIComponent(request.url)}`, 302);
    return;
  }
  const target = refererPath(request.headers.referer, ingress) ?? ingress.path;
  const location = `${loginUrl}?redirect=${encodeURIComponent(target)}`;
  reply.code(401).header('location', location).header('cache-control', 'no-store');
  if (request.method === 'HEAD') await reply.send();
  else if (wantsJson(request.headers))
    await reply.send({ error: 'unauthenticated, please log in', login_url: location });
  else await reply.type('text/plain; charset=utf-8').send(`unauthenticated, please log in: ${location}\n`);
}

const HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]+)(:\d{1,5})?$/;

/** A `.` or `..` segment, also percent-encoded (`%2e`), which `normalizePath` would resolve away. */
export function hasDotSegment(rawPath: string): boolean {
  return /(^|\/)(\.|%2e){1,2}(\/|;|$)/i.test(rawPath);
}

/** The path+query of a same-origin Referer (where an SPA should return after login), else undefined. */
function refererPath(referer: string | undefined, ingress: Ingress): string | undefined {
  if (!referer) return undefined;
  try {
    const u = new URL(referer);
    return u.origin === ingress.origin ? pathOf(u.pathname) + u.search : undefined;
  } catch {
    return undefined;
  }
}

function upstreamFailed(reply: FastifyReply, timedOut: boolean): void {
  const status = timedOut ? 504 : 502;
  const message = timedOut ? 'The application did not answer in time.' : 'The application is not reachable.';
  const request = reply.request;
  const ingress = request.proxyAuth?.ingress;
  if (ingress && loginResponseKind(request.method, request.headers) === 'redirect') {
    void sendErrorPage(reply, { status, title: 'Service unavailable', message, ingress });
    return;
  }
  void reply
    .code(status)
    .header('cache-control', 'no-store')
    .send({ error: timedOut ? 'upstream_timeout' : 'bad_gateway', error_description: message, request_id: request.id });
}

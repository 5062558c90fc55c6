import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Ingress } from '../config/ingress.js';
import { isVestibuleError } from '../errors/registry.js';
import { cookieValues } from '../cookies/cookie-header.js';
import { cookieOptions, SESSION_COOKIE } from '../cookies/our-cookies.js';
import { loginResponseKind, wantsJson } from '../request/navigation.js';
import { compilePathGlobs, normalizePath } from '../paths/path-match.js';
import { requestTargetProblem } from '../request/request-target.js';
import { upstreamHeaders } from './upstream-headers.js';
import type { Metrics } from '../observability/metrics.js';
import { Forwarder, responseHeaders, type ForwardFailure } from './forward.js';
import type { RequireToken } from '../access/require-token.js';
import type { Tunnels } from './tunnel.js';
import { ingressOf } from '../request/request-facts.js';
import { pathOf } from '../request/request-target.js';
import { sendErrorPage } from '../errors/answers.js';
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
  /** Open websocket tunnels; main.ts cuts them when the shutdown grace period ends. */
  readonly tunnels: Tunnels;
}

/** Per-request authentication result, set by the pre-handler and read when the upstream headers are built. */
interface ProxyAuth {
  accessToken: string | undefined;
  ingress: Ingress;
}

declare module 'fastify' {
  interface FastifyRequest {
    proxyAuth: ProxyAuth | null;
  }
}

// The methods passed on. TRACE is not among them: an app echoing it would hand the injected bearer token to
// the page (cross-site tracing).
const METHODS = ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT', 'OPTIONS'];

/** Upgrade requests (websockets) waiting for their route: the client socket and the bytes after the head. */
const upgrades = new WeakMap<IncomingMessage, { socket: Duplex; head: Buffer }>();

/**
 * Everything outside /oauth2 goes to the app, streamed both ways (bodies are never buffered) and websockets
 * included, with the session's access token as `Authorization: Bearer`, our cookies removed and forwarding
 * headers set by us.
 */
export function proxyPlugin(app: FastifyInstance, d: ProxyDeps, done: (err?: Error) => void): void {
  app.decorateRequest('proxyAuth', null);
  const ignored = compilePathGlobs(['/favicon.ico', '/robots.txt', ...d.autoLoginIgnorePaths]);
  const forwarder = new Forwarder({ upstream: d.upstream, timeoutMs: d.upstreamTimeoutMs, connections: 256 });
  app.addHook('onClose', async () => forwarder.close());
  // Bodies are streamed to the app as they arrive; nothing here parses them.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => {
    done(null);
  });
  routeUpgrades(app);

  const headersFor = (request: FastifyRequest, auth: ProxyAuth): Record<string, string | string[]> => {
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

  const failed = (reply: FastifyReply, kind: ForwardFailure): void => {
    d.metrics.upstreamErrors.inc({ kind });
    upstreamFailed(reply, kind === 'timeout');
  };

  app.route({
    method: METHODS,
    url: '/*',
    config: { routeClass: 'proxy' },
    preHandler: (request, reply, done) => {
      const problem = targetProblem(request);
      const cookies = problem === undefined ? cookieValues(request.headers.cookie, SESSION_COOKIE) : [];
      // A busy session is usually in the in-process cache: answered without a promise (see authenticateCached).
      if (problem === undefined && d.requireToken === undefined) {
        const active = d.manager.authenticateCached(cookies);
        if (active) {
          request.proxyAuth = { accessToken: active.accessToken, ingress: ingressOf(request, d.ingresses) };
          done();
          return;
        }
      }
      authenticate(request, reply, d, ignored, { problem, cookies }).then(() => done(), done);
    },
    handler: (request, reply) => {
      const auth = request.proxyAuth ?? { accessToken: undefined, ingress: ingressOf(request, d.ingresses) };
      const headers = headersFor(request, auth);
      const upgrade = upgrades.get(request.raw);
      if (upgrade) {
        openTunnel(request, reply, headers, upgrade, d, failed);
        return;
      }
      const sentAt = performance.now();
      forwarder.forward(
        {
          method: request.method,
          url: request.url,
          headers,
          raw: request.raw,
          res: reply.raw,
          // A hijacked reply skips Fastify's own headers: what the pre-handler set (a re-issued session cookie)
          // is added to the app's answer.
          setCookies: setCookiesOf(reply),
        },
        {
          onResponse: () => {
            // From here the app's answer is written straight to the socket; Fastify still runs onResponse.
            reply.hijack();
            d.metrics.upstreamDuration.observe((performance.now() - sentAt) / 1000);
          },
          onFailure: (kind) => failed(reply, kind),
        },
      );
    },
  });
  done();
}

/**
 * Sends upgrade requests through Fastify's router like any other request, so the same hooks (auth, limits,
 * logging) run before the route handler opens the tunnel. An answer other than a tunnel ends the socket.
 */
function routeUpgrades(app: FastifyInstance): void {
  app.server.on('upgrade', (raw: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    upgrades.set(raw, { socket, head });
    const res = new ServerResponse(raw);
    res.assignSocket(socket as never);
    res.on('finish', () => socket.destroy());
    app.routing(raw, res);
  });
}

function openTunnel(
  request: FastifyRequest,
  reply: FastifyReply,
  headers: Record<string, string | string[]>,
  upgrade: { socket: Duplex; head: Buffer },
  d: ProxyDeps,
  failed: (reply: FastifyReply, kind: ForwardFailure) => void,
): void {
  d.tunnels.open(
    { url: request.url, headers, upgrade: String(request.headers.upgrade), client: upgrade.socket, head: upgrade.head },
    {
      onOpen: () => {
        reply.hijack();
        d.metrics.websockets.inc();
      },
      onClose: () => d.metrics.websockets.dec(),
      onRefused: (response) => {
        // The app's own answer, filtered like any proxied answer (responseHeaders), sent through Fastify.
        const h = responseHeaders(response.rawHeaders);
        reply.code(response.statusCode ?? 502);
        for (let i = 0; i + 1 < h.length; i += 2) reply.header(h[i] ?? '', h[i + 1]);
        void reply.send(response);
      },
      onFailure: (kind) => failed(reply, kind),
    },
  );
}

async function authenticate(
  request: FastifyRequest,
  reply: FastifyReply,
  d: ProxyDeps,
  ignored: (path: string | null) => boolean,
  /** What the pre-handler already read: {@link targetProblem}'s verdict and the session cookie's values. */
  seen: { problem: string | undefined; cookies: readonly string[] },
): Promise<void> {
  const ingress = ingressOf(request, d.ingresses);
  const rawPath = pathOf(request.url);
  if (seen.problem !== undefined) {
    await reply.code(400).send({ error: 'bad_request', error_description: seen.problem });
    return;
  }
  let accessToken: string | undefined;
  try {
    const active = await d.manager.authenticate(seen.cookies);
    accessToken = active?.accessToken;
    // A plain header (not reply.setCookie, which only onSend applies), so the forwarder can pass it on too.
    if (active?.renewedCookie) {
      const options = cookieOptions(ingress, 'session');
      reply.header('set-cookie', reply.server.serializeCookie(SESSION_COOKIE, active.renewedCookie, options));
    }
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

/** Why the request may not go to the app as it is (answered 400), or undefined. */
function targetProblem(request: FastifyRequest): string | undefined {
  // The Host is passed on to the app; one that is not a host[:port] is refused here rather than by the client
  // library towards the app (which would look like the app being down).
  const host = request.headers.host;
  if (host !== undefined && !HOST.test(host)) return 'invalid Host header';
  // Only plain paths reach the app (see request-target.ts for what is refused and why).
  return requestTargetProblem(request.url);
}

/** Set-Cookie values already on the reply. */
function setCookiesOf(reply: FastifyReply): string[] | undefined {
  const v = reply.getHeader('set-cookie');
  return v === undefined ? undefined : Array.isArray(v) ? v : [String(v)];
}

const HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]+)(:\d{1,5})?$/;

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

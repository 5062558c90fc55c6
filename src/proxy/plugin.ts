import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { decideAccess, NOT_PROTECTED, type AccessFacts } from '../access/decision.js';
import { sessionTokenOf, type RequireToken, type SessionToken } from '../access/require-token.js';
import type { Ingress } from '../config/ingress.js';
import { cookieValues } from '../cookies/cookie-header.js';
import { cookieOptions, sessionCookieName } from '../cookies/our-cookies.js';
import { isVestibuleError } from '../errors/registry.js';
import type { Metrics } from '../observability/metrics.js';
import type { RecordUnfinished } from '../observability/request-hooks.js';
import { compilePathGlobs, normalizePath } from '../paths/path-match.js';
import { isCrossSite } from '../request/cross-site.js';
import { loginResponseKind } from '../request/navigation.js';
import { ingressOf } from '../request/request-facts.js';
import { hostProblem, pathOf, requestTargetProblem } from '../request/request-target.js';
import type { SessionManager } from '../session/manager.js';
import { NOOP_TRACER, type Tracer } from '../tracing/tracer.js';
import { answerVerdict } from './access-answer.js';
import { Forwarder, type ForwardFailure } from './forward.js';
import { traceForwarder } from './forward-span.js';
import type { Tunnels } from './tunnel.js';
import { upstreamHeaders } from './upstream-headers.js';
import { upstreamFailed } from './upstream-failure.js';
import { openTunnel, pendingUpgrade, routeUpgrades } from './upgrades.js';

export interface ProxyDeps {
  readonly upstream: string;
  readonly upstreamTimeoutMs: number;
  /** VESTIBULE_SEND_TIMEOUT: the longest a client may take none of an answer (stalled-reader.ts). */
  readonly sendTimeoutMs: number;
  readonly ingresses: readonly Ingress[];
  readonly manager: SessionManager;
  readonly autoLogin: boolean;
  /** Globs exempt from auto-login; /favicon.ico and /robots.txt are always added. */
  readonly autoLoginIgnorePaths: readonly string[];
  readonly isTrustedPeer: (address: string | undefined) => boolean;
  /** Protected paths (VESTIBULE_REQUIRE_TOKEN_PATHS), or undefined when none are configured. */
  readonly requireToken?: RequireToken | undefined;
  readonly metrics: Metrics;
  /** Open websocket tunnels; they are cut when the shutdown grace period ends. */
  readonly tunnels: Tunnels;
  /** VESTIBULE_CSRF_CHECK: refuse cross-site POST/PUT/PATCH/DELETE that would carry a session's token. */
  readonly csrfCheck: boolean;
  /** VESTIBULE_UPSTREAM_INCLUDE_ID_TOKEN: the session's ID token goes to the app as X-Wonderwall-Id-Token. */
  readonly upstreamIncludeIdToken?: boolean;
  /** VESTIBULE_SKIP_AUTH_PREFLIGHT: CORS preflights go to the app without authentication (and no token). */
  readonly skipAuthPreflight?: boolean;
  /** A client span per forwarded request while tracing is on. */
  readonly tracer?: Tracer | undefined;
  /** Writes the access line and request metrics of a request whose answer did not finish (client gone, app broke off). */
  readonly recordUnfinished?: RecordUnfinished | undefined;
}

/** Per-request result of the access decision, set by the pre-handler and read when the upstream headers are built. */
interface ProxyAuth {
  accessToken: string | undefined;
  /** The session's ID token, only with VESTIBULE_UPSTREAM_INCLUDE_ID_TOKEN and only beside an access token. */
  idToken?: string | undefined;
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
const UNSAFE = new Set(['DELETE', 'PATCH', 'POST', 'PUT']);

/** The facts of a request that need no I/O: read from its method and headers. */
type RequestFacts = Pick<
  AccessFacts,
  'targetProblem' | 'upgrade' | 'crossSite' | 'unsafeMethod' | 'csrfCheck' | 'preflight'
>;

/**
 * Everything outside /oauth2 goes to the app, streamed both ways (bodies are never buffered) and websockets
 * included, with the session's access token as `Authorization: Bearer`, our cookies removed and forwarding
 * headers set by us. Whether a request goes on is {@link decideAccess}'s verdict on the facts gathered here.
 */
export function proxyPlugin(app: FastifyInstance, d: ProxyDeps, done: (err?: Error) => void): void {
  app.decorateRequest('proxyAuth', null);
  const exempt = compilePathGlobs(['/favicon.ico', '/robots.txt', ...d.autoLoginIgnorePaths]);
  const origins = new Set(d.ingresses.map((i) => i.origin));
  const forwarder = traceForwarder(
    new Forwarder({
      upstream: d.upstream,
      timeoutMs: d.upstreamTimeoutMs,
      sendTimeoutMs: d.sendTimeoutMs,
      connections: 256,
    }),
    d.tracer ?? NOOP_TRACER,
    d.upstream,
  );
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
      idToken: auth.idToken,
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
    upstreamFailed(reply, kind === 'timeout', reply.request.proxyAuth?.ingress);
  };

  app.route({
    method: METHODS,
    url: '/*',
    config: { routeClass: 'proxy' },
    preHandler: (request, reply, done) => {
      const targetProblem = hostProblem(request.headers.host) ?? requestTargetProblem(request.url);
      // The ingress names the session cookie (__Host-/__Secure- on https) and is passed on to the app's headers.
      const ingress = ingressOf(request, d.ingresses);
      const cookies =
        targetProblem === undefined ? cookieValues(request.headers.cookie, sessionCookieName(ingress)) : [];
      const upgrade = upgradeOf(request);
      const unsafeMethod = UNSAFE.has(request.method);
      const facts: RequestFacts = {
        targetProblem,
        upgrade,
        // Read only where decideAccess looks at it (a websocket, or an unsafe method under the CSRF check), so a
        // plain GET with neither setting on parses no Fetch Metadata.
        crossSite: (upgrade === 'websocket' || (d.csrfCheck && unsafeMethod)) && isCrossSite(request.headers, origins),
        unsafeMethod,
        csrfCheck: d.csrfCheck,
        preflight: d.skipAuthPreflight === true && isPreflight(request),
      };
      // A busy session is usually in the in-process cache: decided without a promise (see authenticateCached).
      if (targetProblem === undefined && d.requireToken === undefined) {
        const active = d.manager.authenticateCached(cookies);
        if (active) {
          const verdict = decideAccess({
            ...facts,
            session: { kind: 'active', accessToken: active.accessToken },
            token: NOT_PROTECTED,
            autoLogin: d.autoLogin,
            loginExempt: false,
            navigation: false,
          });
          if (verdict.kind === 'forward') {
            request.proxyAuth = {
              accessToken: verdict.accessToken,
              idToken: idTokenFor(d, verdict.accessToken, active.session.record.idToken),
              ingress,
            };
            done();
            return;
          }
        }
      }
      decide(request, reply, d, exempt, facts, cookies, ingress).then(() => done(), done);
    },
    handler: (request, reply) => {
      const auth = request.proxyAuth ?? { accessToken: undefined, ingress: ingressOf(request, d.ingresses) };
      const headers = headersFor(request, auth);
      const upgrade = pendingUpgrade(request);
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
          claimsChallenge: auth.accessToken === undefined ? undefined : { reply, ingress: auth.ingress },
        },
        {
          onResponse: () => {
            // From here the app's answer is written straight to the socket; Fastify still runs onResponse.
            reply.hijack();
            d.metrics.upstreamDuration.observe((performance.now() - sentAt) / 1000);
          },
          onFailure: (kind) => failed(reply, kind),
          onBroken: () => {
            d.metrics.upstreamErrors.inc({ kind: 'broken' });
            d.recordUnfinished?.(request, reply);
          },
          onClientGone: (phase) => {
            d.metrics.clientsGone.inc({ phase });
            d.recordUnfinished?.(request, reply);
          },
        },
      );
    },
  });
  done();
}

/** Gathers the facts of a request, asks {@link decideAccess}, and answers when the request stops here. */
async function decide(
  request: FastifyRequest,
  reply: FastifyReply,
  d: ProxyDeps,
  exempt: (path: string | null) => boolean,
  /** What the pre-handler already read: the facts of the request itself, and the session cookie's values. */
  seen: RequestFacts,
  cookies: readonly string[],
  ingress: Ingress,
): Promise<void> {
  let session: AccessFacts['session'] = { kind: 'none' };
  let idToken: string | null = null;
  let sessionToken: SessionToken | undefined;
  // A preflight carries no credentials and is passed on without any: no store read, no refresh for it.
  if (seen.targetProblem === undefined && !seen.preflight) {
    try {
      const active = await d.manager.authenticate(cookies);
      if (active) {
        session = { kind: 'active', accessToken: active.accessToken };
        idToken = active.session.record.idToken;
        // Built only when rules are configured (a few fields; the groups cache's key inside is needed on overage).
        sessionToken = d.requireToken && sessionTokenOf(active);
      }
      // A plain header (not reply.setCookie, which only onSend applies), so the forwarder can pass it on too.
      if (active?.renewedCookie) {
        const options = cookieOptions(ingress, 'session');
        reply.header(
          'set-cookie',
          reply.server.serializeCookie(sessionCookieName(ingress), active.renewedCookie, options),
        );
      }
    } catch (err) {
      if (!isVestibuleError(err) || err.code !== 'STORE_UNAVAILABLE') throw err;
      request.log.error({ failure: { errorCode: err.code, message: err.message } }, 'session store unavailable');
      session = { kind: 'unavailable' };
    }
  }
  const accessToken = session.kind === 'active' ? session.accessToken : undefined;
  const token =
    d.requireToken &&
    seen.targetProblem === undefined &&
    !seen.preflight &&
    !(session.kind === 'unavailable' && d.autoLogin)
      ? await d.requireToken(request.url, request.headers.authorization, sessionToken)
      : NOT_PROTECTED;
  const verdict = decideAccess({
    ...seen,
    session,
    token,
    autoLogin: d.autoLogin,
    // Only read when it can matter (auto-login, no session): normalising the path is not free.
    loginExempt: d.autoLogin && accessToken === undefined && exempt(normalizePath(pathOf(request.url))),
    navigation: loginResponseKind(request.method, request.headers) === 'redirect',
  });
  if (verdict.kind === 'forward') {
    request.proxyAuth = {
      accessToken: verdict.accessToken,
      idToken: idTokenFor(d, verdict.accessToken, idToken),
      ingress,
    };
    return;
  }
  await answerVerdict(request, reply, verdict, ingress);
}

/** The ID token to send with a forwarded request: only when the setting is on and the session's token goes too. */
function idTokenFor(d: ProxyDeps, accessToken: string | undefined, idToken: string | null): string | undefined {
  return d.upstreamIncludeIdToken === true && accessToken !== undefined && idToken !== null ? idToken : undefined;
}

/**
 * A CORS preflight: OPTIONS with `Origin` and `Access-Control-Request-Method` (Fetch standard); browsers send it
 * without cookies or `Authorization`, so it could never pass a protected path. A browser's preflight also never
 * has a body nor any header the page chose (those are only named in Access-Control-Request-Headers): an OPTIONS
 * with `Authorization`, a body or a method-override header is no preflight but a request dressed up as one, and
 * is judged like any other (else it would carry its own token, or a DELETE, past the protected-path rules).
 */
function isPreflight(request: FastifyRequest): boolean {
  const h = request.headers;
  return (
    request.method === 'OPTIONS' &&
    h.origin !== undefined &&
    h['access-control-request-method'] !== undefined &&
    h.authorization === undefined &&
    h['transfer-encoding'] === undefined &&
    (h['content-length'] === undefined || h['content-length'] === '0') &&
    !METHOD_OVERRIDES.some((name) => h[name] !== undefined)
  );
}

/** Headers frameworks read as the request's real method (Express method-override, ASP.NET, Symfony, Play, …). */
const METHOD_OVERRIDES = ['x-http-method-override', 'x-http-method', 'x-method-override'];

/**
 * What a request upgrade asks for. Only a GET with `Upgrade: websocket` may become a tunnel: any other
 * protocol (`h2c` above all: once switched, the client speaks HTTP/2 straight to the app, every later request
 * past our checks) or method is refused.
 */
function upgradeOf(request: FastifyRequest): AccessFacts['upgrade'] {
  if (!pendingUpgrade(request)) return 'none';
  const to = request.headers.upgrade;
  return request.method === 'GET' && typeof to === 'string' && to.trim().toLowerCase() === 'websocket'
    ? 'websocket'
    : 'other';
}

/** Set-Cookie values already on the reply. */
function setCookiesOf(reply: FastifyReply): string[] | undefined {
  const v = reply.getHeader('set-cookie');
  return v === undefined ? undefined : Array.isArray(v) ? v : [String(v)];
}

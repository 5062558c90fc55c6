import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { decideAccess, NOT_PROTECTED, type AccessFacts, type AccessVerdict } from '../access/decision.js';
import { DENY_CODES } from '../access/deny-codes.js';
import { cookieValues, stripCookies } from '../cookies/cookie-header.js';
import { matchIngress, type Ingress } from '../config/ingress.js';
import { COOKIE_PREFIX, sessionCookieName } from '../cookies/our-cookies.js';
import { noStore, sendError } from '../errors/answers.js';
import { isVestibuleError } from '../errors/registry.js';
import { browserScriptRequest } from '../request/fetch-metadata.js';
import { ingressOf } from '../request/request-facts.js';
import { pathOf } from '../request/request-target.js';
import type { SessionManager } from '../session/manager.js';
import { sessionTokenOf, type RequireToken } from '../access/require-token.js';
import { stepUpLoginUrl } from '../access/step-up-url.js';
import { loginUrl } from '../request/login-url.js';
import { setForwardAuthHeaders } from './forward-auth-headers.js';

/** Where the answer goes, which decides whether it may carry the token. */
export type ForwardAuthAudience =
  /** The public port, reachable by the browser: 204 or 401, never a token (Wonderwall's default). */
  | 'browser'
  /** The forward-auth listener, reachable by the ingress controller only: 204 with the token. */
  | 'ingress';

export interface ForwardAuthDeps {
  readonly manager: SessionManager;
  readonly ingresses: readonly Ingress[];
  /**
   * VESTIBULE_FORWARD_AUTH_SET_HEADERS: the `ingress` audience's 204 also carries the ID token as
   * X-Wonderwall-Forward-Auth-Token (Wonderwall's session.forward-auth-set-headers). Never to the browser.
   */
  readonly setHeaders?: boolean | undefined;
  /**
   * The protected-path rules (VESTIBULE_REQUIRE_TOKEN_PATHS), judged on the `ingress` audience against the
   * guarded request's path (X-Original-URI) and the session's token, so groups, roles, callers and
   * authentication contexts hold behind an ingress as behind the proxy.
   */
  readonly requireToken?: RequireToken | undefined;
}

/**
 * The adapter from a forward-auth request to the one access decision ({@link decideAccess}): the session
 * becomes the facts; login is required (a forward-auth 401 sends the browser to log in); the protected-path
 * rules apply to a session on the ingress's listener, judged on the guarded request's path (X-Original-URI;
 * on the public port the subrequest's target is not the user's, so none apply there). Proxy and forward-auth
 * thus share one decision. Also the session's ID token, for X-Wonderwall-Forward-Auth-Token, and the ingress.
 */
async function forwardAuthDecision(
  d: ForwardAuthDeps,
  request: FastifyRequest,
  audience: ForwardAuthAudience,
  /** The guarded request's URI (X-Original-URI, on the ingress's listener only), when it is a path. */
  uri: string | undefined,
): Promise<{ verdict: AccessVerdict; idToken: string | null; ingress: Ingress }> {
  let session: AccessFacts['session'];
  let idToken: string | null = null;
  let token: AccessFacts['token'] = NOT_PROTECTED;
  // The subrequest carries the browser's Host; its path is ours, so on the ingress's own listener the guarded
  // request's path comes from X-Original-URI (set by the controller; the listener is never the browser's).
  // The matched ingress names the cookie (__Host-/__Secure- on https), also for two ingresses on one host.
  const ingress =
    uri === undefined ? ingressOf(request, d.ingresses) : matchIngress(d.ingresses, request.headers.host, pathOf(uri));
  try {
    const active = await d.manager.authenticate(cookieValues(request.headers.cookie, sessionCookieName(ingress)));
    session = active ? { kind: 'active', accessToken: active.accessToken } : { kind: 'none' };
    idToken = active?.session.record.idToken ?? null;
    if (active && uri !== undefined && d.requireToken !== undefined) {
      // Only the session's token: the subrequest's own Authorization is the browser's, never judged here.
      token = await d.requireToken(uri, undefined, sessionTokenOf(active));
    }
  } catch (err) {
    if (!isVestibuleError(err) || err.code !== 'STORE_UNAVAILABLE') throw err;
    request.log.error({ failure: { errorCode: err.code, message: err.message } }, 'session store unavailable');
    session = { kind: 'unavailable' };
  }
  // With rules, a guarded path the ingress did not name cannot be judged: refused rather than passed unjudged,
  // so an ingress that sends another header (Traefik's X-Forwarded-Uri) fails loudly instead of open.
  const targetProblem =
    audience === 'ingress' && d.requireToken !== undefined && uri === undefined
      ? 'X-Original-URI must carry the guarded request path (e.g. nginx: proxy_set_header X-Original-URI $request_uri) when VESTIBULE_REQUIRE_TOKEN_PATHS is set'
      : undefined;
  // The guarded request's method, Origin and upgrade are the ingress's to judge: forward-auth decides on the
  // session alone (protected paths, the CSRF and websocket Origin checks are proxy-mode features).
  const verdict = decideAccess({
    targetProblem,
    upgrade: 'none',
    crossSite: false,
    unsafeMethod: false,
    csrfCheck: false,
    preflight: false,
    session,
    token,
    autoLogin: true,
    loginExempt: false,
    navigation: false,
  });
  return { verdict, idToken, ingress };
}

/** The guarded request's URI from X-Original-URI when it is a path (the login route checks it stays on the site). */
function guardedUri(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' && header.charCodeAt(0) === 0x2f ? header : undefined;
}

/**
 * `/oauth2/session/forwardauth`. For the `ingress` audience the 204 carries `Authorization: Bearer <token>` and
 * `X-Vestibule-Cookie` (the request's Cookie header without vestibule's cookies, for the ingress to send to
 * the app instead of the browser's); a request page script could read (browser Fetch Metadata or an Origin)
 * is refused with 403 there, so a listener routed to the browser by mistake still hands no token to a page.
 */
export function forwardAuthRoute(
  app: FastifyInstance,
  url: string,
  d: ForwardAuthDeps,
  audience: ForwardAuthAudience,
): void {
  // nginx's auth_request subrequest keeps the method of the request it guards.
  const method = audience === 'ingress' ? ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] : ['GET'];
  app.route({
    method,
    url,
    config: { routeClass: 'session' },
    handler: async (request, reply) => {
      if (audience === 'ingress' && browserScriptRequest(request.headers)) {
        return sendError(reply, 'FORWARD_AUTH_BROWSER_REQUEST');
      }
      const uri = audience === 'ingress' ? guardedUri(request.headers['x-original-uri']) : undefined;
      const { verdict, idToken, ingress } = await forwardAuthDecision(d, request, audience, uri);
      return answer(request, reply, verdict, {
        audience,
        idToken: d.setHeaders === true ? idToken : null,
        login: audience === 'ingress' ? { uri, ingress } : undefined,
      });
    },
  });
}

/** How {@link answer} answers, beside the verdict. */
interface AnswerContext {
  readonly audience: ForwardAuthAudience;
  /** The ID token for X-Wonderwall-Forward-Auth-Token, or null when it is not to be sent. */
  readonly idToken: string | null;
  /**
   * On the ingress's listener: the guarded request's URI and ingress, for the login URL a 401 carries. Elsewhere
   * undefined: the caller is not a browser's ingress, and a 401 is all it needs.
   */
  readonly login: { readonly uri: string | undefined; readonly ingress: Ingress } | undefined;
}

/**
 * A 401 a login can fix. On the ingress's listener it carries where the browser should log in, back to the
 * guarded request (encoded: nginx has no urlencode of its own, and `$request_uri` in a query splits at its `&`):
 * the ingress may send the browser there (nginx: auth_request_set $login $upstream_http_location). A step-up's URL
 * asks for the authentication context, which the ingress's own login URL would not. Without a usable
 * X-Original-URI the login URL has no way back (the ingress root), but is still given: on this listener a 401
 * without one means that a login cannot help.
 */
function sendToLogin(reply: FastifyReply, login: AnswerContext['login'], stepUpClaims?: string): FastifyReply {
  if (login === undefined) return sendError(reply, 'SESSION_UNAUTHENTICATED');
  const { uri, ingress } = login;
  const location =
    stepUpClaims === undefined
      ? loginUrl(uri, ingress.routePrefix)
      : stepUpLoginUrl(stepUpClaims, uri ?? ingress.path, ingress.routePrefix);
  return sendError(reply, stepUpClaims === undefined ? 'SESSION_UNAUTHENTICATED' : 'PROXY_STEP_UP_REQUIRED', {
    headers: { location },
    fields: { login_url: location },
  });
}

function answer(request: FastifyRequest, reply: FastifyReply, verdict: AccessVerdict, c: AnswerContext): FastifyReply {
  const { audience, idToken } = c;
  switch (verdict.kind) {
    case 'forward': {
      if (verdict.accessToken === undefined) return sendToLogin(reply, c.login);
      noStore(reply).code(204);
      if (audience === 'ingress') {
        reply.header('authorization', `Bearer ${verdict.accessToken}`);
        const cookie = stripCookies(request.headers.cookie, COOKIE_PREFIX);
        if (cookie !== undefined) reply.header('x-vestibule-cookie', cookie);
        setForwardAuthHeaders(reply, idToken !== null, idToken);
      }
      return reply.send();
    }
    case 'login':
      return sendToLogin(reply, c.login);
    case 'store_unavailable':
      return sendError(reply, 'STORE_UNAVAILABLE');
    case 'bad_request':
      return sendError(reply, 'PROXY_BAD_REQUEST', { detail: verdict.reason });
    case 'forbidden':
      return sendError(reply, 'PROXY_FORBIDDEN', { detail: verdict.reason });
    // The rules' answers (ingress listener only): 403 ends at the ingress, 503 fails closed.
    case 'deny':
      return sendError(reply, DENY_CODES[verdict.why], {
        detail: verdict.reason,
        headers: verdict.wwwAuthenticate ? { 'www-authenticate': verdict.wwwAuthenticate } : undefined,
      });
    case 'groups_unavailable':
      request.log.warn(
        { failure: { errorCode: 'PROXY_GROUPS_UNAVAILABLE', message: verdict.reason } },
        'groups lookup failed',
      );
      return sendError(reply, 'PROXY_GROUPS_UNAVAILABLE');
    case 'step_up':
      // Rules, and so step-ups, are judged on the ingress's listener only; elsewhere this is a plain 401.
      return sendToLogin(reply, c.login, verdict.claims);
  }
}

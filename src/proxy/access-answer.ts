import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccessVerdict } from '../access/decision.js';
import { DENY_CODES } from '../access/deny-codes.js';
import { stepUpLoginUrl } from '../access/step-up-url.js';
import { loginUrl } from '../request/login-url.js';
import type { Ingress } from '../config/ingress.js';
import { sendError } from '../errors/answers.js';
import { loginResponseKind, wantsJson } from '../request/navigation.js';
import { refererPath } from '../request/request-target.js';

/**
 * Writes the answer of a verdict that stops the request at the proxy (everything but `forward`): the
 * HTTP shape of each decision, kept apart from the decision itself.
 */
export async function answerVerdict(
  request: FastifyRequest,
  reply: FastifyReply,
  verdict: Exclude<AccessVerdict, { kind: 'forward' }>,
  ingress: Ingress,
): Promise<void> {
  switch (verdict.kind) {
    case 'bad_request':
      await sendError(reply, 'PROXY_BAD_REQUEST', { detail: verdict.reason });
      return;
    case 'forbidden':
      // Before the app: a page of another site never gets to use the session (nor a websocket at all).
      await sendError(reply, 'PROXY_FORBIDDEN', { detail: verdict.reason });
      return;
    case 'store_unavailable':
      await sendError(reply, 'PROXY_STORE_UNAVAILABLE');
      return;
    case 'deny':
      await sendDeny(request, reply, verdict, ingress);
      return;
    case 'groups_unavailable':
      // Fail closed: the groups are unknown, not "none"; 503 says "try again", where a 403 would be cached as final.
      request.log.warn(
        { failure: { errorCode: 'PROXY_GROUPS_UNAVAILABLE', message: verdict.reason } },
        'groups lookup failed',
      );
      await sendError(reply, 'PROXY_GROUPS_UNAVAILABLE', { as: shapeFor(request), ingress });
      return;
    case 'step_up':
      await sendToStepUp(request, reply, verdict, ingress);
      return;
    case 'login':
      await sendToLogin(request, reply, verdict.via, ingress);
      return;
  }
}

async function sendDeny(
  request: FastifyRequest,
  reply: FastifyReply,
  verdict: Extract<AccessVerdict, { kind: 'deny' }>,
  ingress: Ingress,
): Promise<void> {
  const headers = verdict.wwwAuthenticate ? { 'www-authenticate': verdict.wwwAuthenticate } : undefined;
  const code = DENY_CODES[verdict.why];
  if (verdict.why !== 'group') {
    await sendError(reply, code, { detail: verdict.reason, headers });
    return;
  }
  // A navigation gets the page (its own message, not the rule's group ids); fetch/XHR the JSON with the reason.
  const as = shapeFor(request);
  await sendError(reply, code, { as, ingress, detail: as === 'page' ? undefined : verdict.reason, headers });
}

/** The error page for a top-level navigation, JSON for anything else. */
function shapeFor(request: FastifyRequest): 'page' | 'json' {
  return loginResponseKind(request.method, request.headers) === 'redirect' ? 'page' : 'json';
}

/**
 * A session without a required authentication context logs in again with the `claims` request: a navigation
 * is redirected there (back to this URL afterwards); fetch/XHR gets 401 with the `login_url`, returning to the
 * page that made the call, as {@link sendToLogin} does.
 */
async function sendToStepUp(
  request: FastifyRequest,
  reply: FastifyReply,
  verdict: Extract<AccessVerdict, { kind: 'step_up' }>,
  ingress: Ingress,
): Promise<void> {
  if (verdict.via === 'redirect') {
    await reply
      .header('cache-control', 'no-store')
      .redirect(stepUpLoginUrl(verdict.claims, request.url, ingress.routePrefix), 302);
    return;
  }
  const target = refererPath(request.headers.referer, ingress.origin) ?? ingress.path;
  const location = stepUpLoginUrl(verdict.claims, target, ingress.routePrefix);
  await sendError(reply, 'PROXY_STEP_UP_REQUIRED', {
    as: wantsJson(request.headers) ? 'json' : 'text',
    empty: request.method === 'HEAD',
    headers: { location },
    fields: { login_url: location },
  });
}

async function sendToLogin(
  request: FastifyRequest,
  reply: FastifyReply,
  via: 'redirect' | 'challenge',
  ingress: Ingress,
): Promise<void> {
  if (via === 'redirect') {
    await reply.redirect(loginUrl(request.url, ingress.routePrefix), 302);
    return;
  }
  // fetch/XHR cannot follow a redirect to the identity provider: 401 with where the page should send the user,
  // back to the page that made the call (its Referer) rather than to the API URL.
  const target = refererPath(request.headers.referer, ingress.origin) ?? ingress.path;
  const location = loginUrl(target, ingress.routePrefix);
  await sendError(reply, 'PROXY_LOGIN_REQUIRED', {
    as: wantsJson(request.headers) ? 'json' : 'text',
    empty: request.method === 'HEAD',
    headers: { location },
    fields: { login_url: location },
  });
}

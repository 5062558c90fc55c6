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
      await sendToLoginUrl(request, reply, verdict.via, ingress, 'PROXY_STEP_UP_REQUIRED', (target) =>
        stepUpLoginUrl(verdict.claims, target, ingress.routePrefix),
      );
      return;
    case 'login':
      await sendToLoginUrl(request, reply, verdict.via, ingress, 'PROXY_LOGIN_REQUIRED', (target) =>
        loginUrl(target, ingress.routePrefix),
      );
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
 * Sends the browser to a login URL (`urlFor` the page to come back to): a navigation is redirected there, back
 * to this URL afterwards; fetch/XHR, which cannot follow a redirect to the identity provider, gets 401 with the
 * `login_url`, back to the page that made the call (its Referer) rather than to the API URL. Never cached. A
 * plain login and a step-up (the login asks for an authentication context the session lacks) differ only in
 * the URL and the error code.
 */
async function sendToLoginUrl(
  request: FastifyRequest,
  reply: FastifyReply,
  via: 'redirect' | 'challenge',
  ingress: Ingress,
  code: 'PROXY_LOGIN_REQUIRED' | 'PROXY_STEP_UP_REQUIRED',
  urlFor: (target: string) => string,
): Promise<void> {
  if (via === 'redirect') {
    await reply.header('cache-control', 'no-store').redirect(urlFor(request.url), 302);
    return;
  }
  const location = urlFor(refererPath(request.headers.referer, ingress.origin) ?? ingress.path);
  await sendError(reply, code, {
    as: wantsJson(request.headers) ? 'json' : 'text',
    empty: request.method === 'HEAD',
    headers: { location },
    fields: { login_url: location },
  });
}

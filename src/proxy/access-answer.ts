import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccessVerdict } from '../access/decision.js';
import type { Ingress } from '../config/ingress.js';
import { sendError } from '../errors/answers.js';
import { wantsJson } from '../request/navigation.js';
import { pathOf } from '../request/request-target.js';

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
      await sendError(reply, verdict.status === 403 ? 'PROXY_INSUFFICIENT_SCOPE' : 'PROXY_INVALID_TOKEN', {
        detail: verdict.reason,
        headers: verdict.wwwAuthenticate ? { 'www-authenticate': verdict.wwwAuthenticate } : undefined,
      });
      return;
    case 'login':
      await sendToLogin(request, reply, verdict.via, ingress);
      return;
  }
}

async function sendToLogin(
  request: FastifyRequest,
  reply: FastifyReply,
  via: 'redirect' | 'challenge',
  ingress: Ingress,
): Promise<void> {
  const loginUrl = `${ingress.routePrefix}/oauth2/login`;
  if (via === 'redirect') {
    await reply.redirect(`${loginUrl}?redirect=${encodeURIComponent(request.url)}`, 302);
    return;
  }
  // fetch/XHR cannot follow a redirect to the identity provider: 401 with where the page should send the user,
  // back to the page that made the call (its Referer) rather than to the API URL.
  const target = refererPath(request.headers.referer, ingress) ?? ingress.path;
  const location = `${loginUrl}?redirect=${encodeURIComponent(target)}`;
  await sendError(reply, 'PROXY_LOGIN_REQUIRED', {
    as: wantsJson(request.headers) ? 'json' : 'text',
    empty: request.method === 'HEAD',
    headers: { location },
    fields: { login_url: location },
  });
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

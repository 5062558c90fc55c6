import type { FastifyReply, FastifyRequest } from 'fastify';
import { matchIngress, type Ingress } from '../config/ingress.js';
import { loginResponseKind } from '../http/navigation.js';
import { renderErrorPage } from '../http/error-page.js';
import { VestibuleError } from '../errors.js';

/** The path part of the raw request target. */
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** The query string of the raw request target, without '?'. */
export function queryOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? '' : url.slice(q + 1);
}

export function ingressOf(request: FastifyRequest, ingresses: readonly Ingress[]): Ingress {
  return matchIngress(ingresses, request.headers.host, pathOf(request.url));
}

/** A single-valued query parameter: undefined when absent, and also when duplicated (ambiguous input). */
export function single(query: unknown, name: string): string | undefined {
  const v = (query as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v : undefined;
}

/** Headers every /oauth2 response carries: never cached, never sniffed, no referrer leaks of codes or state. */
export function noStore(reply: FastifyReply): FastifyReply {
  return reply
    .header('cache-control', 'no-cache, no-store, must-revalidate, private, max-age=0')
    .header('pragma', 'no-cache')
    .header('expires', '0')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer');
}

/**
 * Login, callback and logout are interactive: a fetch/XHR to them (recognised by fetch metadata) gets a
 * 401 JSON instead of a redirect that would fail on CORS at the identity provider.
 */
export function rejectNonNavigation(request: FastifyRequest): void {
  const h = request.headers;
  if (h['sec-fetch-mode'] !== undefined && h['sec-fetch-dest'] !== undefined) {
    if (loginResponseKind(request.method === 'HEAD' ? 'GET' : request.method, h) !== 'redirect') {
      throw new VestibuleError('NOT_NAVIGATION', pathOf(request.url));
    }
  }
}

/** Sends the HTML error page for a failed interactive step. */
export function sendErrorPage(
  reply: FastifyReply,
  o: { status: number; title: string; message: string; ingress: Ingress; retryUrl?: string | undefined },
): FastifyReply {
  return noStore(reply)
    .code(o.status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
    .header('x-frame-options', 'DENY')
    .send(
      renderErrorPage({
        status: o.status,
        title: o.title,
        message: o.message,
        correlationId: reply.request.id,
        retryUrl: o.retryUrl,
        homeUrl: o.ingress.path,
      }),
    );
}

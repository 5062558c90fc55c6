import type { FastifyReply } from 'fastify';
import { renderErrorPage } from './error-page.js';

/** Headers every /oauth2 response carries: never cached, never sniffed, no referrer leaks of codes or state. */
export function noStore(reply: FastifyReply): FastifyReply {
  return reply
    .header('cache-control', 'no-cache, no-store, must-revalidate, private, max-age=0')
    .header('pragma', 'no-cache')
    .header('expires', '0')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer');
}

/** Sends the HTML error page for a failed interactive step; `home` is the ingress's front page. */
export function sendErrorPage(
  reply: FastifyReply,
  o: {
    status: number;
    title: string;
    message: string;
    ingress: { readonly path: string };
    retryUrl?: string | undefined;
  },
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

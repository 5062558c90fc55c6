import type { FastifyReply } from 'fastify';
import { renderErrorPage } from './error-page.js';
import { entryOf, type AnswerShape, type CachePolicy, type ErrorCode } from './registry.js';

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
    retryLabel?: string | undefined;
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
        retryLabel: o.retryLabel,
        homeUrl: o.ingress.path,
      }),
    );
}

export interface SendErrorOptions {
  /** JSON, the HTML page or text/plain; the entry's first shape when omitted. */
  readonly as?: AnswerShape | undefined;
  /** Replaces the entry's default message (JSON `error_description`, page text, text body). Never a secret. */
  readonly detail?: string | undefined;
  /** The ingress whose front page the HTML page links to; required for `as: 'page'`. */
  readonly ingress?: { readonly path: string } | undefined;
  /** The page's "Try again" target. */
  readonly retryUrl?: string | undefined;
  /** Extra headers (WWW-Authenticate, Location …). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /**
   * Extra members after `error` and `error_description` in a JSON body (login_url, request_id, error_path,
   * claims); in a text body their values follow the message after `: `. Undefined values are left out.
   */
  readonly fields?: Readonly<Record<string, string | undefined>> | undefined;
  /** Only for `passThrough` entries: the status and wire error given by Entra or by Fastify. */
  readonly status?: number | undefined;
  readonly error?: string | undefined;
  /** Status and headers only, no body (a HEAD request). */
  readonly empty?: boolean | undefined;
}

/**
 * Sends the error answer registered under `code` (see registry.ts): its status, cache headers, Retry-After,
 * and a JSON body `{error, error_description, ...fields}`, the HTML error page, or a text/plain line.
 */
export function sendError(reply: FastifyReply, code: ErrorCode, o: SendErrorOptions = {}): FastifyReply {
  const entry = entryOf(code);
  if ((o.status !== undefined || o.error !== undefined) && entry.passThrough !== true) {
    throw new TypeError(`${code} has a fixed status and error`);
  }
  const status = o.status ?? entry.status;
  const message = o.detail ?? entry.message;
  const as = o.as ?? entry.shapes[0] ?? 'json';
  if (entry.retryAfterSec !== undefined) reply.header('retry-after', String(entry.retryAfterSec));
  for (const [name, value] of Object.entries(o.headers ?? {})) reply.header(name, value);
  if (as === 'page') {
    if (!o.ingress) throw new TypeError(`${code}: an error page needs the ingress`);
    return sendErrorPage(reply, {
      status,
      title: entry.title ?? 'Error',
      message,
      ingress: o.ingress,
      retryUrl: o.retryUrl,
      retryLabel: entry.retryLabel,
    });
  }
  withCache(reply, entry.cache).code(status);
  if (o.empty) return reply.send();
  const fields = Object.entries(o.fields ?? {}).filter((f): f is [string, string] => f[1] !== undefined);
  if (as === 'text') {
    const tail = fields.length > 0 ? `: ${fields.map((f) => f[1]).join(' ')}` : '';
    return reply.type('text/plain; charset=utf-8').send(`${message}${tail}\n`);
  }
  const body: Record<string, string> = { error: o.error ?? entry.error };
  if (entry.describe !== false) body.error_description = message;
  for (const [name, value] of fields) body[name] = value;
  return reply.send(body);
}

function withCache(reply: FastifyReply, policy: CachePolicy): FastifyReply {
  if (policy === 'private') return noStore(reply);
  if (policy === 'no-store') return reply.header('cache-control', 'no-store');
  return reply;
}

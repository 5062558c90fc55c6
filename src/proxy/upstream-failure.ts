import type { FastifyReply } from 'fastify';
import { sendErrorPage } from '../errors/answers.js';
import { loginResponseKind } from '../request/navigation.js';

/** 502 (the app is down) or 504 (it did not answer in time): a page for navigations, JSON otherwise. */
export function upstreamFailed(
  reply: FastifyReply,
  timedOut: boolean,
  ingress: { readonly path: string } | undefined,
): void {
  const status = timedOut ? 504 : 502;
  const message = timedOut ? 'The application did not answer in time.' : 'The application is not reachable.';
  const request = reply.request;
  if (ingress && loginResponseKind(request.method, request.headers) === 'redirect') {
    void sendErrorPage(reply, { status, title: 'Service unavailable', message, ingress });
    return;
  }
  void reply
    .code(status)
    .header('cache-control', 'no-store')
    .send({ error: timedOut ? 'upstream_timeout' : 'bad_gateway', error_description: message, request_id: request.id });
}

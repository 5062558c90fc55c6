import type { FastifyReply } from 'fastify';
import { sendError } from '../errors/answers.js';
import { loginResponseKind } from '../request/navigation.js';

/** 502 (the app is down) or 504 (it did not answer in time): a page for navigations, JSON otherwise. */
export function upstreamFailed(
  reply: FastifyReply,
  timedOut: boolean,
  ingress: { readonly path: string } | undefined,
): void {
  const request = reply.request;
  const page = ingress !== undefined && loginResponseKind(request.method, request.headers) === 'redirect';
  void sendError(reply, timedOut ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_UNREACHABLE', {
    as: page ? 'page' : 'json',
    ingress,
    fields: { request_id: request.id },
  });
}

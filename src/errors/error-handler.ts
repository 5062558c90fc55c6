import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './answers.js';
import { isVestibuleError } from './registry.js';

/**
 * The public listener's error handler: a {@link VestibuleError} nobody caught is answered with its registry
 * entry (JSON; `error_path` for NOT_NAVIGATION), a Fastify client error keeps its 4xx status as `bad_request`,
 * and anything else is a bug: 500 `internal_error` with the request id, logged with the error.
 */
export function vestibuleErrorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (isVestibuleError(err)) {
    const failure = { errorCode: err.code, message: err.message };
    if (err.status >= 500) request.log.error({ failure }, 'request failed');
    else request.log.info({ failure }, 'request rejected');
    return sendError(reply, err.code, {
      as: 'json',
      detail: err.message,
      fields: err.code === 'NOT_NAVIGATION' ? { error_path: err.detail } : undefined,
    });
  }
  const status = typeof err.statusCode === 'number' && err.statusCode >= 400 ? err.statusCode : 500;
  if (status >= 500) {
    request.log.error({ err }, 'unexpected error');
    return sendError(reply, 'INTERNAL_ERROR', { status, fields: { request_id: request.id } });
  }
  return sendError(reply, 'BAD_REQUEST', { status, fields: { request_id: request.id } });
}

import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sendError } from '../errors/answers.js';
import type { Metrics } from '../observability/metrics.js';
import { normaliseOid } from '../session/keys.js';
import type { Sessions } from '../session/sessions.js';
import type { SessionStore } from '../session/store.js';
import { notReadyBecause } from './probes.js';

export interface AdminDeps {
  readonly metrics: Metrics;
  readonly store: SessionStore;
  readonly sessions: Sessions;
  /** Readiness: false once shutdown has begun. */
  readonly isAccepting: () => boolean;
  /** VESTIBULE_ADMIN_TOKEN: the operator endpoints exist only with it. */
  readonly operatorToken: string | null;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * A check of `Authorization: Bearer <token>` against the operator token in constant time: both sides are
 * hashed first, so neither the comparison nor its length reveals how much of a guess was right.
 */
function bearerCheck(token: string): (request: FastifyRequest) => boolean {
  const expected = digest(token);
  return (request) => {
    const header = request.headers.authorization;
    if (header === undefined || !/^Bearer /i.test(header)) return false;
    return timingSafeEqual(digest(header.slice('Bearer '.length).trim()), expected);
  };
}

/**
 * The admin listener's routes: liveness, readiness (the store answers and we are not draining), Prometheus
 * metrics — open, for the kubelet and Prometheus — and, with an operator token, the operator call that ends every
 * session of one user (a leaver, a stolen laptop).
 */
export function adminRoutes(admin: FastifyInstance, d: AdminDeps): void {
  admin.get('/healthz', (_request, reply) => reply.send('ok\n'));
  admin.get('/metrics', async (_request, reply) =>
    reply.type(d.metrics.registry.contentType).send(await d.metrics.registry.metrics()),
  );
  admin.get('/readyz', async (_request, reply) => {
    const problem = await notReadyBecause(d);
    return problem ? reply.code(503).send(`not ready: ${problem}\n`) : 'ready\n';
  });
  admin.setNotFoundHandler((_request, reply) => sendError(reply, 'ADMIN_NOT_FOUND'));
  // The operator endpoints are destructive: off (404, like any unknown path) until they have a secret.
  if (d.operatorToken === null) return;
  const authorized = bearerCheck(d.operatorToken);
  admin.delete<{ Params: { oid: string } }>('/admin/users/:oid/sessions', async (request, reply) => {
    if (!authorized(request)) {
      request.log.warn({ route: 'DELETE /admin/users/:oid/sessions' }, 'operator call refused: bad or no token');
      return sendError(reply, 'ADMIN_UNAUTHORIZED', { headers: { 'www-authenticate': 'Bearer' } });
    }
    // Entra object ids are GUIDs in any case; the index holds the lower-case form.
    const oid = normaliseOid(request.params.oid);
    if (oid === undefined) return sendError(reply, 'ADMIN_BAD_OID');
    const ended = await d.sessions.destroyByOid(oid);
    d.metrics.logouts.inc({ kind: 'operator' });
    request.log.info({ oid, ended }, 'operator ended all sessions of a user');
    return { ended };
  });
}

import type { FastifyInstance } from 'fastify';
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
}

/**
 * The admin listener's routes: liveness, readiness (the store answers and we are not draining), Prometheus
 * metrics, and the operator call that ends every session of one user (a leaver, a stolen laptop).
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
  admin.delete<{ Params: { oid: string } }>('/admin/users/:oid/sessions', async (request, reply) => {
    // Entra object ids are GUIDs in any case; the index holds the lower-case form.
    const oid = normaliseOid(request.params.oid);
    if (oid === undefined) return reply.code(400).send({ error: 'oid must be an object id (GUID)' });
    const ended = await d.sessions.destroyByOid(oid);
    d.metrics.logouts.inc({ kind: 'operator' });
    request.log.info({ oid, ended }, 'operator ended all sessions of a user');
    return { ended };
  });
}

import type { FastifyInstance } from 'fastify';

/**
 * `GET /oauth2/ping`: `200 pong` (text/plain), Wonderwall's liveness answer under each ingress path. It reads
 * nothing (no session, no store), and is not counted in Wonderwall's `requests_total`, as in Wonderwall.
 */
export function pingRoute(app: FastifyInstance, prefix: string): void {
  app.get(`${prefix}/oauth2/ping`, { config: { routeClass: 'other' } }, (_request, reply) =>
    reply.header('cache-control', 'no-store').type('text/plain; charset=utf-8').send('pong'),
  );
}

import type { FastifyInstance } from 'fastify';
import type { Metrics } from './metrics.js';

/** Counts and times every answered request by route class and status (bounded labels only). */
export function registerRequestMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.config.routeClass ?? 'other';
    metrics.requests.inc({ route, status: String(reply.statusCode) });
    metrics.requestDuration.observe({ route }, reply.elapsedTime / 1000);
    done();
  });
}

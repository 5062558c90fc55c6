import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Metrics } from './metrics.js';

/** Counts and times an answered request by route class and status (bounded labels only). */
export function recordRequest(metrics: Metrics, request: FastifyRequest, reply: FastifyReply): void {
  const route = request.routeOptions.config.routeClass ?? 'other';
  metrics.requests.inc({ route, status: String(reply.statusCode) });
  metrics.requestDuration.observe({ route }, reply.elapsedTime / 1000);
}

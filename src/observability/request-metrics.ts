import type { FastifyReply, FastifyRequest } from 'fastify';
import { WONDERWALL_PROVIDER, type Metrics } from './metrics.js';

/**
 * The `/oauth2` endpoints Wonderwall counts in `requests_total` (its Prometheus middleware's `relevantPaths`):
 * not ping, not proxied traffic.
 */
const WONDERWALL_PATHS = [
  '/oauth2/login',
  '/oauth2/callback',
  '/oauth2/logout',
  '/oauth2/logout/callback',
  '/oauth2/logout/frontchannel',
  '/oauth2/logout/local',
  '/oauth2/session',
  '/oauth2/session/refresh',
  '/oauth2/session/forwardauth',
];
const WONDERWALL_ROUTES: ReadonlySet<string> = new Set(['login', 'callback', 'logout', 'session']);

/** The `host` label: an ingress host as the client sent it, or `other` (a client's Host never makes a series). */
export type HostLabel = (host: string | undefined) => string;

/** A {@link HostLabel} that keeps only the given hosts (lower-cased, with port when not default). */
export function knownHosts(hosts: Iterable<string>): HostLabel {
  const known = new Set(hosts);
  return (host) => {
    const h = host?.toLowerCase();
    return h !== undefined && known.has(h) ? h : 'other';
  };
}

/**
 * Counts and times an answered request by route class and status (bounded labels only); on the public listener
 * (`hostLabel` given) the `/oauth2` endpoints are also counted in Wonderwall's `requests_total` and
 * `request_duration_seconds`, with `path` the route's own path (prefix included, never the query) and every
 * 5xx as `code="500"`, the one server error Wonderwall answers there.
 */
export function recordRequest(
  metrics: Metrics,
  request: FastifyRequest,
  reply: FastifyReply,
  hostLabel?: HostLabel,
): void {
  const route = request.routeOptions.config.routeClass ?? 'other';
  const seconds = reply.elapsedTime / 1000;
  const status = String(reply.statusCode);
  metrics.answered++;
  metrics.requests.inc({ route, status });
  metrics.requestDuration.observe({ route }, seconds);
  if (hostLabel === undefined || !WONDERWALL_ROUTES.has(route)) return;
  const path = request.routeOptions.url;
  if (path === undefined || !WONDERWALL_PATHS.some((p) => path.endsWith(p))) return;
  const labels = {
    // Wonderwall answers its /oauth2 endpoints' failures with 500 (store down, IdP errors), where we answer 502
    // or 503: any 5xx counts as "500" here, so the platform's `code="500"` alert fires for the same outages.
    // The true status is in vestibule_http_requests_total.
    code: reply.statusCode >= 500 ? '500' : status,
    method: request.method,
    path,
    host: hostLabel(request.headers.host),
    service: 'wonderwall',
    provider: WONDERWALL_PROVIDER,
  };
  metrics.wonderwallRequests.inc(labels);
  metrics.wonderwallRequestDuration.observe(labels, seconds);
}

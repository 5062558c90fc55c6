import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Route classes: the only request label, so label sets stay bounded (no raw paths, no user ids). */
export type RouteClass = 'login' | 'callback' | 'logout' | 'session' | 'proxy' | 'admin' | 'token' | 'other';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Wonderwall's series, kept so the platform's dashboards and alerts (`requests_total{code="500",provider="azure"}`)
 * keep working after the switch. Names, labels, constant labels and buckets as in nais/wonderwall
 * `pkg/middleware/prometheus.go` and `pkg/metrics/metrics.go`; `provider` is what Wonderwall calls Entra ID.
 */
export const WONDERWALL_PROVIDER = 'azure';
/** `request_duration_seconds` (chi-prometheus' buckets, as Wonderwall sets them). */
const WONDERWALL_REQUEST_BUCKETS = [0.001, 0.01, 0.05, 0.1, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5];
/** `wonderwall_redis_latency`: 0.001 × 2^n, 16 buckets (`prometheus.ExponentialBuckets(0.001, 2, 16)`). */
const WONDERWALL_REDIS_BUCKETS = Array.from({ length: 16 }, (_, n) => 0.001 * 2 ** n);
/** The `operation` values of `wonderwall_logouts`, pre-initialised to 0 as Wonderwall does. */
export const WONDERWALL_LOGOUT_OPERATIONS = ['self_initiated', 'front_channel', 'local'] as const;

/**
 * Every metric vestibule exports, with its help text, in one place (docs/operations.md lists them). One
 * registry per process, passed down explicitly: no global default registry.
 */
export class Metrics {
  readonly registry = new Registry();

  /**
   * Requests that arrived, and that were answered, on the listeners that log requests (public, forward-auth,
   * token API) since start: cheap activity signals as plain numbers (the idle compaction reads them).
   */
  arrived = 0;
  answered = 0;

  readonly requests = new Counter({
    name: 'vestibule_http_requests_total',
    help: 'Requests answered, by route class and status code.',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });

  readonly requestDuration = new Histogram({
    name: 'vestibule_http_request_duration_seconds',
    help: 'Time from request to response, by route class.',
    labelNames: ['route'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly upstreamDuration = new Histogram({
    name: 'vestibule_upstream_response_seconds',
    help: 'Time until the app answered with response headers (proxied requests).',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly upstreamErrors = new Counter({
    name: 'vestibule_upstream_errors_total',
    help: 'Proxied requests the app did not answer, by kind (unreachable, timeout; broken: its answer broke off after the headers).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly clientsGone = new Counter({
    name: 'vestibule_client_gone_total',
    help: 'Proxied requests whose client left before the answer was complete, by phase (waiting: before the app answered, reading: during its body, stalled: cut for taking none of it for VESTIBULE_SEND_TIMEOUT).',
    labelNames: ['phase'] as const,
    registers: [this.registry],
  });

  readonly logins = new Counter({
    name: 'vestibule_logins_total',
    help: 'Completed login callbacks, by outcome.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly callbackThrottled = new Counter({
    name: 'vestibule_callback_throttled_total',
    help: 'Login callbacks refused with 429 before the token endpoint was called, by the bucket that refused (address, global).',
    labelNames: ['scope'] as const,
    registers: [this.registry],
  });

  readonly cookieTossing = new Counter({
    name: 'vestibule_cookie_tossing_total',
    help: 'Completed logins whose request carried more than one valid session cookie: one was planted by a sibling subdomain or another path on the host (cookie tossing), and the browser will have no session.',
    registers: [this.registry],
  });

  readonly logouts = new Counter({
    name: 'vestibule_logouts_total',
    help: 'Logouts, by kind (self_initiated, local, front_channel, operator).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly refreshes = new Counter({
    name: 'vestibule_token_refreshes_total',
    help: 'Token refresh attempts, by outcome (refreshed, current, kept, ended; backoff: kept without asking the identity provider, which is throttling our client).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly storeDuration = new Histogram({
    name: 'vestibule_store_operation_seconds',
    help: 'Session store operation latency, by operation.',
    labelNames: ['operation'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly storeErrors = new Counter({
    name: 'vestibule_store_errors_total',
    help: 'Failed session store operations, by operation.',
    labelNames: ['operation'] as const,
    registers: [this.registry],
  });

  readonly idpDuration = new Histogram({
    name: 'vestibule_idp_request_seconds',
    help: 'Identity provider request latency, by endpoint (discovery, jwks, token, other).',
    labelNames: ['endpoint'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly idpErrors = new Counter({
    name: 'vestibule_idp_errors_total',
    help: 'Identity provider requests that failed (network error, timeout or HTTP 5xx), by endpoint.',
    labelNames: ['endpoint'] as const,
    registers: [this.registry],
  });

  readonly graphLookups = new Counter({
    name: 'vestibule_graph_lookups_total',
    help: "Microsoft Graph lookups of a user's groups (groups overage), by outcome (ok, error); an error refuses the request with 503.",
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly tokenCacheLookups = new Counter({
    name: 'vestibule_token_cache_lookups_total',
    help: 'Token API cache lookups, by cache (token, exchange) and result (hit, miss, coalesced).',
    labelNames: ['cache', 'result'] as const,
    registers: [this.registry],
  });

  readonly tokenCacheSize = new Gauge({
    name: 'vestibule_token_cache_entries',
    help: 'Entries in the token API caches, by cache.',
    labelNames: ['cache'] as const,
    registers: [this.registry],
  });

  readonly websockets = new Gauge({
    name: 'vestibule_websockets_open',
    help: 'Websocket connections currently proxied.',
    registers: [this.registry],
  });

  // ---- Wonderwall-compatible series (see WONDERWALL_PROVIDER) ----

  readonly wonderwallRequests = new Counter({
    name: 'requests_total',
    help: 'How many HTTP requests processed, partitioned by status code, method and HTTP path.',
    labelNames: ['code', 'method', 'path', 'host', 'service', 'provider'] as const,
    registers: [this.registry],
  });

  readonly wonderwallRequestDuration = new Histogram({
    name: 'request_duration_seconds',
    help: 'How long it took to process the request, partitioned by status code, method and HTTP path.',
    labelNames: ['code', 'method', 'path', 'host', 'service', 'provider'] as const,
    buckets: WONDERWALL_REQUEST_BUCKETS,
    registers: [this.registry],
  });

  readonly wonderwallLogins = new Counter({
    name: 'wonderwall_logins',
    help: 'cumulative number of successful logins',
    labelNames: ['amr', 'redirect', 'hpa', 'provider'] as const,
    registers: [this.registry],
  });

  readonly wonderwallLogouts = new Counter({
    name: 'wonderwall_logouts',
    help: 'cumulative number of successful logouts',
    labelNames: ['operation', 'hpa', 'provider'] as const,
    registers: [this.registry],
  });

  readonly wonderwallRedisLatency = new Histogram({
    name: 'wonderwall_redis_latency',
    help: 'latency in redis operations, in seconds',
    labelNames: ['operation', 'provider'] as const,
    buckets: WONDERWALL_REDIS_BUCKETS,
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'vestibule_' });
    for (const kind of ['self_initiated', 'local', 'front_channel', 'operator']) this.logouts.inc({ kind }, 0);
    for (const outcome of ['refreshed', 'current', 'kept', 'ended', 'backoff']) this.refreshes.inc({ outcome }, 0);
    for (const outcome of ['ok', 'error']) this.graphLookups.inc({ outcome }, 0);
    for (const operation of WONDERWALL_LOGOUT_OPERATIONS)
      this.wonderwallLogouts.inc(wonderwallLabels({ operation }), 0);
    this.wonderwallLogins.inc(wonderwallLabels({ amr: '', redirect: '' }), 0);
  }

  /** A successful login in `wonderwall_logins` (`amr` as Wonderwall joins it; see {@link wonderwallRedirect}). */
  observeWonderwallLogin(amr: string, redirect: string): void {
    this.wonderwallLogins.inc(wonderwallLabels({ amr, redirect: wonderwallRedirect(redirect) }));
  }

  /** A logout in `wonderwall_logouts`. */
  observeWonderwallLogout(operation: (typeof WONDERWALL_LOGOUT_OPERATIONS)[number]): void {
    this.wonderwallLogouts.inc(wonderwallLabels({ operation }));
  }
}

/** Wonderwall's constant labels: `hpa="rate"` on logins and logouts, `provider` on all of its series. */
function wonderwallLabels<T extends Record<string, string>>(labels: T): T & { hpa: string; provider: string } {
  return { ...labels, hpa: 'rate', provider: WONDERWALL_PROVIDER };
}

/**
 * The `redirect` label of `wonderwall_logins`, as Wonderwall bounds it: empty for a relative target (ours always
 * are: the redirect stays on the ingress), else scheme://host plus at most the first two path segments.
 */
export function wonderwallRedirect(redirect: string): string {
  let u: URL;
  try {
    u = new URL(redirect);
  } catch {
    return '';
  }
  const segments = u.pathname.replace(/\/$/, '').split('/').slice(1, 3).join('/');
  return `${u.protocol}//${u.host}${segments === '' ? '' : `/${segments}`}`;
}

/** The endpoint label for an identity-provider URL. */
export function idpEndpoint(url: string): 'discovery' | 'jwks' | 'token' | 'other' {
  if (url.includes('/.well-known/')) return 'discovery';
  if (url.includes('/keys') || url.includes('jwks')) return 'jwks';
  if (url.includes('/token')) return 'token';
  return 'other';
}

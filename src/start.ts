import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { GRAPH_SCOPE, GroupsResolver } from './access/groups-resolver.js';
import { createRequireToken } from './access/require-token.js';
import { CallbackThrottle } from './login/callback-throttle.js';
import type { Config } from './config/load.js';
import { Keyring } from './crypto/keyring.js';
import { discoverWithRetry } from './oidc/discover-with-retry.js';
import type { IdentityProvider } from './oidc/provider.js';
import type { AccessLog } from './observability/access-log.js';
import { instrumentFetch } from './observability/fetch-metrics.js';
import { startIdleCompaction } from './observability/idle-compaction.js';
import { traceFetch } from './observability/fetch-spans.js';
import { Metrics } from './observability/metrics.js';
import { Tunnels } from './proxy/tunnel.js';
import { trustedPeers } from './proxy/trusted-peers.js';
import { buildAdminServer } from './servers/admin-server.js';
import { buildForwardAuthServer } from './servers/forward-auth-server.js';
import { buildProbeServer } from './servers/probe-server.js';
import { buildPublicServer } from './servers/public-server.js';
import { createStore } from './session/create-store.js';
import { storeKeys } from './session/keys.js';
import { SessionManager } from './session/manager.js';
import type { SessionPolicy } from './session/policy.js';
import { RefreshLock } from './session/refresh-lock.js';
import { ClientBackoff } from './session/client-backoff.js';
import { Refresher } from './session/refresher.js';
import { SessionCache } from './session/session-cache.js';
import { Sessions } from './session/sessions.js';
import { instrumentStore } from './session/store-instrumented.js';
import { traceStore } from './session/store-traced.js';
import type { SessionStore } from './session/store.js';
import { NOOP_TRACER, type Tracer } from './tracing/tracer.js';
import { buildTokenApi } from './token-api/server.js';

export interface StartOptions {
  readonly logger: Logger;
  /** Writes the per-request access line (see observability/logger.ts); the request's logger when omitted. */
  readonly accessLogger?: AccessLog | undefined;
  /** A fresh registry with process metrics when omitted. */
  readonly metrics?: Metrics;
  /** vestibule's clock for every time decision. */
  readonly now?: () => number;
  /** How long discovery is retried at a cold start; 60 s when omitted, 0 fails at once. */
  readonly discoveryRetryMs?: number;
}

/** A running vestibule: its three listeners, and the parts tests and operators look at. */
export interface Vestibule {
  readonly provider: IdentityProvider;
  readonly store: SessionStore;
  readonly metrics: Metrics;
  /** The OpenTelemetry tracer when OTEL_* turn tracing on, else the no-op one; `stop` flushes and ends it. */
  readonly tracer: Tracer;
  /** Login routes and the proxy, on VESTIBULE_BIND_ADDRESS. */
  readonly public: FastifyInstance;
  /** Probes, metrics and operator calls, on VESTIBULE_ADMIN_BIND_ADDRESS. */
  readonly admin: FastifyInstance;
  /** The Texas-compatible token API, on the loopback VESTIBULE_TOKEN_BIND_ADDRESS. */
  readonly token: FastifyInstance;
  /** The forward-auth listener (VESTIBULE_FORWARD_AUTH_BIND_ADDRESS), or undefined; closes with `public`. */
  readonly forwardAuth: FastifyInstance | undefined;
  /** Wonderwall's probe listener (VESTIBULE_PROBE_BIND_ADDRESS); not listening when that is off. */
  readonly probe: FastifyInstance;
  /** Texas's probe listener (VESTIBULE_TOKEN_PROBE_BIND_ADDRESS); not listening when that is off. */
  readonly tokenProbe: FastifyInstance;
  /** Cuts open websocket tunnels (they outlive a listener's close until the shutdown grace period ends). */
  readonly cutTunnels: () => void;
  /**
   * What the idle compaction watches: moves with every request that arrives or is answered, NaN while a
   * websocket is open.
   */
  readonly activity: () => number;
  /**
   * Readiness turns 503 at once, the listeners stop accepting, in-flight requests and websockets get
   * `timeoutMs` to finish (then they are cut), the store connection closes, and the last spans are exported.
   */
  readonly stop: (timeoutMs: number) => Promise<void>;
}

/**
 * The composition root: builds the whole object graph from the configuration — the store with its
 * invalidation bus, the identity provider, sessions, refresh, the three servers — and starts listening on the
 * configured addresses. main.ts and the test harness both start vestibule through here.
 */
export async function start(config: Config, o: StartOptions): Promise<Vestibule> {
  const now = o.now ?? Date.now;
  const log = o.logger;
  const metrics = o.metrics ?? new Metrics();
  const tracer = config.otel.tracing ? await startTracer(config, log) : NOOP_TRACER;
  // Every call to Entra and to Graph: timed in the IdP metrics, and a client span while tracing is on.
  const outboundFetch = traceFetch(tracer, instrumentFetch(metrics));
  const rawStore = await createStore(config.store, { logger: log });
  let provider: IdentityProvider;
  try {
    provider = await discoverWithRetry(
      {
        wellKnownUrl: config.wellKnownUrl,
        clientId: config.clientId,
        clientAuth: config.clientAuth,
        assertionAudience: config.assertionAudience,
        allowInsecure: config.allowInsecureIdp,
        allowedTenants: config.allowedTenants,
        leewaySec: config.tokenLeewayMs / 1000,
        fetch: outboundFetch,
      },
      log,
      o.discoveryRetryMs ?? 60_000,
    );
  } catch (err) {
    await rawStore.close();
    await tracer.shutdown();
    throw err;
  }

  const store = traceStore(
    instrumentStore(rawStore, metrics),
    tracer,
    config.store.kind === 'memory' ? 'memory' : 'redis',
  );
  const keyring = new Keyring(config.encryptionKey, config.encryptionKeyPrevious);
  const keys = storeKeys(`vestibule:${config.clientId}`);
  const cache = new SessionCache({ now });
  const bus = await rawStore.openInvalidationBus?.(`vestibule:${config.clientId}:invalidate`, cache);
  const sessions = new Sessions({ store, keyring, keys, now, cache, bus });
  const policy: SessionPolicy = {
    refreshMarginMs: config.refreshMarginMs,
    refreshCooldownMs: config.refreshCooldownMs,
    inactivityTimeoutMs: config.sessionInactivityTimeoutMs,
  };
  // One client-wide IdP back-off (Entra throttles the client id): refresh grants and login callbacks both wait.
  const clientBackoff = new ClientBackoff({ store, key: keys.idpBackoff(), now, log });
  const refresher = new Refresher({
    sessions,
    keys,
    clientBackoff,
    lock: new RefreshLock(store),
    provider,
    clientId: config.clientId,
    policy,
    now,
    log,
    onOutcome: (outcome) => metrics.refreshes.inc({ outcome }),
    tracer,
  });
  if (config.trustedProxies.length === 0) {
    // Behind an ingress the socket peer is the controller, shared by every user: it cannot key a per-client bound.
    log.info(
      'VESTIBULE_TRUSTED_PROXIES is unset: login callbacks are throttled for the whole process only; per-client bounds need the ingress controller named there',
    );
  }
  const manager = new SessionManager({ sessions, refresher, policy, now, log });
  const tunnels = new Tunnels(config.upstream, config.upstreamTimeoutMs);
  // Only when a rule names groups: the one case where a token's left-out groups (overage) must be looked up.
  const wantedGroups = [...new Set(config.requireTokenPaths.flatMap((r) => r.groups))];
  const groupsResolver =
    wantedGroups.length > 0
      ? new GroupsResolver({
          graphUrl: config.graphUrl,
          wanted: wantedGroups,
          // Entra throttles the client id as a whole: the Graph app token waits out (and starts) the same back-off
          // as refreshes and logins.
          appToken: () => clientBackoff.guard(() => provider.clientCredentials(GRAPH_SCOPE)),
          fetch: outboundFetch,
          now,
          ttlMs: config.groupsCacheTtlMs,
          onLookup: (outcome) => metrics.graphLookups.inc({ outcome }),
        })
      : undefined;
  const requireToken =
    config.requireTokenPaths.length > 0
      ? createRequireToken({
          rules: config.requireTokenPaths,
          validator: provider.validator,
          clientId: config.clientId,
          callerAllowList: config.callerAllowList,
          groups: groupsResolver,
        })
      : undefined;
  let accepting = true;

  const publicServer = await buildPublicServer({
    log,
    accessLogger: o.accessLogger,
    metrics,
    tracer,
    forwardAuth: config.forwardAuth,
    routes: {
      ingresses: config.ingresses,
      scopes: config.scopes,
      acrValues: config.acrValues,
      clientCapabilities: config.clientCapabilities,
      sessionMaxLifetimeMs: config.sessionMaxLifetimeMs,
      policy,
      provider,
      sessions,
      manager,
      store,
      keys,
      keyring,
      now,
      metrics,
      isTrustedPeer: trustedPeers(config.trustedProxies),
      clientBackoff,
      groups: groupsResolver,
      callbackThrottle: new CallbackThrottle({ now, perAddress: config.trustedProxies.length > 0 }),
    },
    proxy: {
      tunnels,
      upstream: config.upstream,
      upstreamTimeoutMs: config.upstreamTimeoutMs,
      sendTimeoutMs: config.sendTimeoutMs,
      ingresses: config.ingresses,
      manager,
      autoLogin: config.autoLogin,
      autoLoginIgnorePaths: config.autoLoginIgnorePaths,
      csrfCheck: config.csrfCheck,
      upstreamIncludeIdToken: config.upstreamIncludeIdToken,
      isTrustedPeer: trustedPeers(config.trustedProxies),
      metrics,
      skipAuthPreflight: config.skipAuthPreflight,
      requireToken,
      tracer,
    },
  });
  publicServer.addHook('onClose', async () => {
    provider.close();
    await bus?.close();
  });
  const admin = buildAdminServer(log.child({ listener: 'admin' }), {
    metrics,
    store,
    sessions,
    isAccepting: () => accepting,
    operatorToken: config.adminToken,
  });
  const token = await buildTokenApi({
    provider,
    clientId: config.clientId,
    preAuthorizedApps: config.preAuthorizedApps,
    logger: log.child({ listener: 'token' }),
    now,
    metrics,
    tracer,
  });

  const forwardAuth = config.forwardAuthBind
    ? buildForwardAuthServer({
        log: log.child({ listener: 'forward-auth' }),
        metrics,
        manager,
        ingresses: config.ingresses,
        setHeaders: config.forwardAuthSetHeaders,
        requireToken,
        tracer,
      })
    : undefined;
  // It lives and drains with the public listener (whoever closes that one closes this one too).
  if (forwardAuth) publicServer.addHook('preClose', async () => forwardAuth.close());
  const probe = buildProbeServer(log.child({ listener: 'probe' }), { store, isAccepting: () => accepting });
  const tokenProbe = buildProbeServer(log.child({ listener: 'token-probe' }), { isAccepting: () => accepting });

  const servers = [publicServer, token, admin, probe, tokenProbe, ...(forwardAuth ? [forwardAuth] : [])];
  // A listener that is off is built but never listens. Each probe listener starts after the listeners it
  // vouches for, so its first 200 (naiserator's startupProbe) means they all accept connections.
  const listen = async (server: FastifyInstance, at: Config['bind'] | null): Promise<void> => {
    if (at) await server.listen({ host: at.host, port: at.port });
  };
  try {
    await listen(admin, config.adminBind);
    if (forwardAuth) await listen(forwardAuth, config.forwardAuthBind);
    await listen(token, config.tokenBind);
    await listen(tokenProbe, config.tokenProbeBind);
    await listen(publicServer, config.bind);
    await listen(probe, config.probeBind);
  } catch (err) {
    for (const s of servers) await s.close();
    await store.close();
    await tracer.shutdown();
    throw err;
  }
  const mib = (bytes: number): number => Math.round(bytes / 104857.6) / 10;
  // Moves with every request that arrives or is answered; an open websocket keeps every window busy.
  const activity = (): number => (tunnels.size > 0 ? Number.NaN : metrics.arrived + metrics.answered);
  const stopIdleCompaction = startIdleCompaction({
    activity,
    onCollect: (ms, before, after) =>
      log.info({ ms: Math.round(ms), heapMiB: { before: mib(before), after: mib(after) } }, 'idle: heap compacted'),
    onUnavailable: (err) => log.warn({ failure: { message: err.message } }, 'idle heap compaction is off'),
  });

  return {
    provider,
    store,
    metrics,
    tracer,
    public: publicServer,
    admin,
    token,
    forwardAuth,
    probe,
    tokenProbe,
    activity,
    cutTunnels: () => {
      tunnels.destroyAll();
    },
    stop: async (timeoutMs) => {
      accepting = false;
      stopIdleCompaction();
      const drained = Promise.all([publicServer.close(), token.close()]);
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref());
      if ((await Promise.race([drained.then(() => 'drained' as const), timer])) === 'timeout') {
        log.warn({ timeoutMs }, 'shutdown timeout reached; closing the remaining connections');
        for (const s of servers) s.server.closeAllConnections();
        tunnels.destroyAll();
        await drained;
      }
      await admin.close();
      await probe.close();
      await tokenProbe.close();
      await store.close();
      await tracer.shutdown();
    },
  };
}

/**
 * The OpenTelemetry tracer, imported only now: with tracing off the SDK and its exporters are never loaded (their
 * heap, and gRPC's, would stay for the life of the process).
 */
async function startTracer(config: Config, log: Logger): Promise<Tracer> {
  const { exportTarget, startOtelTracer } = await import('./tracing/otel.js');
  const tracer = await startOtelTracer(config.otel, { warn: (message) => log.warn(message) });
  const { protocol, url } = exportTarget(config.otel);
  log.info(
    { protocol, endpoint: URL.canParse(url) ? new URL(url).origin : '(not a URL)', sampler: config.otel.sampler },
    'tracing: exporting spans',
  );
  return tracer;
}

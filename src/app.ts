import fastifyCookie from '@fastify/cookie';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config/load.js';
import { Keyring } from './crypto/keyring.js';
import { vestibuleErrorHandler } from './errors/error-handler.js';
import type { IdentityProvider } from './oidc/provider.js';
import { instrumentStore } from './session/store-instrumented.js';
import { Metrics } from './observability/metrics.js';
import { guardBodyStall } from './proxy/body-stall.js';
import type { AccessLog } from './observability/access-log.js';
import { lazyChildLoggers } from './observability/lazy-child.js';
import { registerRequestHooks } from './observability/request-hooks.js';
import { requestId } from './observability/request-log.js';
import { proxyPlugin } from './proxy/plugin.js';
import { Tunnels } from './proxy/tunnel.js';
import { createRequireToken } from './access/require-token.js';
import { buildTokenApi } from './token-api/server.js';
import { trustedPeers } from './proxy/trusted-peers.js';
import { callbackRoute } from './routes/callback.js';
import type { RouteDeps } from './routes/deps.js';
import { loginRoute } from './routes/login.js';
import { frontchannelLogoutRoute } from './routes/frontchannel-logout.js';
import { logoutRoutes } from './routes/logout.js';
import { sessionRoutes } from './routes/session.js';
import { noStore } from './errors/answers.js';
import { storeKeys } from './session/keys.js';
import { SessionManager } from './session/manager.js';
import type { SessionPolicy } from './session/policy.js';
import { RefreshLock } from './session/refresh-lock.js';
import { Refresher } from './session/refresher.js';
import { Sessions } from './session/sessions.js';
import { SessionCache, type InvalidationBus } from './session/session-cache.js';
import { redisInvalidationBus } from './session/invalidation-redis.js';
import { RedisStore } from './session/store-redis.js';
import type { SessionStore } from './session/store.js';

export interface AppDeps {
  readonly config: Config;
  readonly provider: IdentityProvider;
  readonly store: SessionStore;
  readonly logger: Logger;
  readonly now?: () => number;
  /** Shared with the IdP client's fetch in main.ts; a fresh registry when omitted. */
  readonly metrics?: Metrics;
  /** Writes the per-request access line (see observability/logger.ts); the request's logger when omitted. */
  readonly accessLogger?: AccessLog | undefined;
  /** Readiness: false once shutdown has begun (main.ts flips it on SIGTERM). */
  readonly isAccepting?: () => boolean;
}

export interface Apps {
  /** Login routes and the proxy, on VESTIBULE_BIND_ADDRESS. */
  readonly public: FastifyInstance;
  /** Health and readiness, on VESTIBULE_ADMIN_BIND_ADDRESS. */
  readonly admin: FastifyInstance;
  /** The Texas-compatible token API, on the loopback VESTIBULE_TOKEN_BIND_ADDRESS. */
  readonly token: FastifyInstance;
  /** Cuts open websocket tunnels: they outlive `close()` until the shutdown grace period ends. */
  readonly cutTunnels: () => void;
}

/** Builds vestibule's servers without listening (tests inject or listen on port 0 themselves). */
export async function buildApps(deps: AppDeps): Promise<Apps> {
  const { config, provider } = deps;
  const now = deps.now ?? Date.now;
  const metrics = deps.metrics ?? new Metrics({ processMetrics: false });
  const store = instrumentStore(deps.store, metrics);
  const keyring = new Keyring(config.encryptionKey, config.encryptionKeyPrevious);
  const keys = storeKeys(`vestibule:${config.clientId}`);
  const cache = new SessionCache({ now });
  // With Redis every replica hears about every change; the in-memory store is one process by definition.
  const bus: InvalidationBus | undefined =
    deps.store instanceof RedisStore
      ? await redisInvalidationBus(deps.store.client, `vestibule:${config.clientId}:invalidate`, cache)
      : undefined;
  const sessions = new Sessions({ store, keyring, keys, now, cache, bus });
  const policy: SessionPolicy = {
    refreshMarginMs: config.refreshMarginMs,
    refreshCooldownMs: config.refreshCooldownMs,
    inactivityTimeoutMs: config.sessionInactivityTimeoutMs,
  };
  const log: FastifyBaseLogger = deps.logger;
  const refresher = new Refresher({
    sessions,
    keys,
    lock: new RefreshLock(store),
    provider,
    clientId: config.clientId,
    policy,
    now,
    log,
    onOutcome: (outcome) => metrics.refreshes.inc({ outcome }),
  });
  const manager = new SessionManager({ sessions, refresher, policy, now, log });
  const routeDeps: RouteDeps = {
    ingresses: config.ingresses,
    scopes: config.scopes,
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
  };

  const adminLogger: FastifyBaseLogger = deps.logger.child({ listener: 'admin' });
  const app = Fastify({
    loggerInstance: log,
    // Fastify's own per-request lines are off: registerRequestHooks writes one safe line per request instead.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyChildLoggers,
    genReqId: requestId,
    requestIdHeader: false,
    // Keep-alive longer than typical load-balancer idle timeouts, headers bounded (slowloris).
    keepAliveTimeout: 65_000,
    connectionTimeout: 0,
    // A whole request (headers and body) must arrive within 5 minutes (Node's default), so a stalled upload
    // cannot hold a connection forever; headers alone within 15 s, checked every 2 s (slowloris).
    requestTimeout: 300_000,
    http: { headersTimeout: 15_000, maxHeaderSize: 32 * 1024, connectionsCheckingInterval: 2_000 },
    routerOptions: { maxParamLength: 2048 },
    return503OnClosing: true,
  });
  registerRequestHooks(app, { access: deps.accessLogger, metrics, onRequest: guardBodyStall });
  // request.cookies is never read (the session cookie is parsed on its own, tolerant of duplicates), so
  // no per-request parsing hook; replies still serialise reply.setCookie.
  await app.register(fastifyCookie, { hook: false });
  app.setErrorHandler(vestibuleErrorHandler);

  const prefixes = [...new Set(config.ingresses.map((i) => i.routePrefix))];
  for (const prefix of prefixes) {
    loginRoute(app, prefix, routeDeps);
    callbackRoute(app, prefix, routeDeps);
    logoutRoutes(app, prefix, routeDeps);
    frontchannelLogoutRoute(app, prefix, routeDeps);
    sessionRoutes(app, prefix, routeDeps, config.forwardAuth);
    // vestibule owns the whole /oauth2 subtree of each ingress: unknown paths there never reach the app.
    app.all(`${prefix}/oauth2/*`, { config: { routeClass: 'other' } }, (_request, reply) =>
      noStore(reply).code(404).send({ error: 'not_found' }),
    );
  }
  const tunnels = new Tunnels(config.upstream, config.upstreamTimeoutMs);
  await app.register(proxyPlugin, {
    tunnels,
    upstream: config.upstream,
    upstreamTimeoutMs: config.upstreamTimeoutMs,
    ingresses: config.ingresses,
    manager,
    autoLogin: config.autoLogin,
    autoLoginIgnorePaths: config.autoLoginIgnorePaths,
    isTrustedPeer: trustedPeers(config.trustedProxies),
    metrics,
    requireToken:
      config.requireTokenPaths.length > 0
        ? createRequireToken(config.requireTokenPaths, provider.validator, config.clientId)
        : undefined,
  });

  const admin = Fastify({
    loggerInstance: adminLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  admin.get('/healthz', (_request, reply) => reply.send('ok\n'));
  admin.get('/metrics', async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
  admin.get('/readyz', async (_request, reply) => {
    if (deps.isAccepting && !deps.isAccepting()) return reply.code(503).send('not ready: shutting down\n');
    try {
      await store.ping();
    } catch {
      return reply.code(503).send('not ready: session store unreachable\n');
    }
    return 'ready\n';
  });
  // Operators end every session of one user (e.g. a leaver, a stolen laptop). Only on the admin listener.
  admin.delete<{ Params: { oid: string } }>('/admin/users/:oid/sessions', async (request, reply) => {
    const oid = request.params.oid;
    if (!/^[0-9a-fA-F-]{1,64}$/.test(oid)) return reply.code(400).send({ error: 'oid must be an object id (GUID)' });
    const ended = await sessions.destroyIndexed(keys.byOid(oid));
    metrics.logouts.inc({ kind: 'operator' });
    request.log.info({ oid, ended }, 'operator ended all sessions of a user');
    return { ended };
  });
  app.addHook('onClose', async () => {
    provider.close();
    await bus?.close();
  });
  const token = await buildTokenApi({
    provider,
    clientId: config.clientId,
    logger: deps.logger.child({ listener: 'token' }),
    now,
    metrics,
  });
  return { public: app, admin, token, cutTunnels: () => tunnels.destroyAll() };
}

import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Writable } from 'node:stream';
import { loadConfig, type Config } from '../../src/config/load.js';
import type { IdentityProvider } from '../../src/oidc/provider.js';
import { Metrics } from '../../src/observability/metrics.js';
import type { SessionStore } from '../../src/session/store.js';
import { start } from '../../src/start.js';
import { generateClientJwk } from '../../mock-entra/keys.js';
import {
  startMockEntra,
  type MockEntra,
  type MockFederatedCredential,
  type MockFederatedIssuer,
} from '../../mock-entra/server.js';
import { freePort } from './free-port.js';
import { startRedis, type RedisServer } from './redis-server.js';
import { startUpstream, type Upstream } from './upstream.js';

export interface HarnessOptions {
  /** Path of the ingress, e.g. '/app'; '' (default) for the root. */
  readonly ingressPath?: string;
  /** More ingress paths on the same origin (VESTIBULE_INGRESS lists them all). */
  readonly extraIngressPaths?: readonly string[];
  /** Extra or overriding environment variables for vestibule; a function gets the mock (e.g. for its Graph URL). */
  readonly env?: Record<string, string> | ((mock: MockEntra) => Record<string, string>);
  /** Share an existing mock, Redis and upstream (e.g. two vestibule instances behind one store). */
  readonly shared?: {
    mock: MockEntra;
    redis: RedisServer;
    upstream: Upstream;
    clientId: string;
    clientJwk: string;
    encryptionKey: string;
  };
  readonly logLevel?: string;
  /** vestibule's clock (the mock keeps real time, as openid-client signs client assertions with real time). */
  readonly now?: () => number;
  /**
   * Workload identity: the app is registered with this federated credential and no key, the mock trusts
   * `issuer`, and vestibule gets only what the Azure Workload Identity webhook injects (AZURE_CLIENT_ID,
   * AZURE_TENANT_ID, AZURE_AUTHORITY_HOST, AZURE_FEDERATED_TOKEN_FILE): no JWK, no secret.
   */
  readonly workloadIdentity?: {
    readonly tokenFile: string;
    readonly issuer: MockFederatedIssuer;
    readonly credential: MockFederatedCredential;
  };
}

/** vestibule with a real mock Entra ID, a real redis-server and a real upstream, all on 127.0.0.1. */
export interface Harness {
  readonly mock: MockEntra;
  readonly redis: RedisServer;
  readonly upstream: Upstream;
  readonly clientId: string;
  readonly clientJwk: string;
  readonly encryptionKey: string;
  readonly config: Config;
  readonly provider: IdentityProvider;
  readonly store: SessionStore;
  readonly app: FastifyInstance;
  /** The admin listener and the token API, each listening on a free loopback port. */
  readonly admin: FastifyInstance;
  readonly tokenApi: FastifyInstance;
  readonly metrics: Metrics;
  /** Cuts open websocket tunnels (what main.ts does when the shutdown grace period ends). */
  cutTunnels(): void;
  /** What the idle compaction watches (see Vestibule.activity). */
  activity(): number;
  /** e.g. http://127.0.0.1:PORT/app (no trailing slash). */
  readonly ingress: string;
  readonly origin: string;
  /** Every log line vestibule wrote so far, parsed. */
  logLines(): Record<string, unknown>[];
  /** The raw log text (for "no secret in any line" checks). */
  rawLogs(): string;
  close(): Promise<void>;
}

export async function startHarness(o: HarnessOptions = {}): Promise<Harness> {
  const owned = !o.shared;
  const redis = o.shared?.redis ?? (await startRedis());
  const upstream = o.shared?.upstream ?? (await startUpstream());
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const ingress = `${origin}${o.ingressPath ?? ''}`;
  const allIngresses = [ingress, ...(o.extraIngressPaths ?? []).map((p) => `${origin}${p}`)];
  const clientId = o.shared?.clientId ?? randomUUID();
  let mock: MockEntra;
  let clientJwk: string;
  if (o.shared) {
    mock = o.shared.mock;
    clientJwk = o.shared.clientJwk;
  } else {
    const wi = o.workloadIdentity;
    const { privateJwk, publicJwk } = await generateClientJwk();
    clientJwk = wi ? '' : JSON.stringify(privateJwk);
    mock = await startMockEntra({
      clients: [
        {
          clientId,
          name: 'test:team:app',
          ...(wi ? { federatedCredentials: [wi.credential] } : { publicJwks: { keys: [publicJwk] } }),
          redirectUris: allIngresses.map((i) => `${i}/oauth2/callback`),
          postLogoutRedirectUris: allIngresses.map((i) => `${i}/oauth2/logout/callback`),
        },
      ],
      ...(wi ? { federatedIssuers: [wi.issuer] } : {}),
    });
  }
  const encryptionKey = o.shared?.encryptionKey ?? randomBytes(32).toString('base64');
  const cleanUp = async (): Promise<void> => {
    if (!owned) return;
    await mock.close();
    await upstream.close();
    await redis.close();
  };
  let config: Config;
  try {
    const identity: Record<string, string> = o.workloadIdentity
      ? {
          AZURE_CLIENT_ID: clientId,
          AZURE_TENANT_ID: mock.tenantId,
          AZURE_AUTHORITY_HOST: `${mock.url}/`,
          AZURE_FEDERATED_TOKEN_FILE: o.workloadIdentity.tokenFile,
        }
      : { AZURE_APP_CLIENT_ID: clientId, AZURE_APP_WELL_KNOWN_URL: mock.wellKnownUrl, AZURE_APP_JWK: clientJwk };
    config = loadConfig({
      ...identity,
      VESTIBULE_INGRESS: allIngresses.join(','),
      VESTIBULE_UPSTREAM: upstream.url,
      VESTIBULE_BIND_ADDRESS: `127.0.0.1:${port}`,
      VESTIBULE_ADMIN_BIND_ADDRESS: '127.0.0.1:0',
      VESTIBULE_TOKEN_BIND_ADDRESS: '127.0.0.1:0',
      VESTIBULE_REDIS_URL: redis.url,
      VESTIBULE_ENCRYPTION_KEY: encryptionKey,
      VESTIBULE_LOG_LEVEL: o.logLevel ?? 'debug',
      ...(typeof o.env === 'function' ? o.env(mock) : o.env),
    });
  } catch (err) {
    await cleanUp();
    throw err;
  }
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  const { createLoggers } = await import('../../src/observability/logger.js');
  const { log, access } = createLoggers({ level: config.logLevel, destination: sink });
  const metrics = new Metrics({ processMetrics: false });
  const vestibule = await start(config, {
    logger: log,
    accessLogger: access,
    metrics,
    discoveryRetryMs: 0,
    ...(o.now ? { now: o.now } : {}),
  }).catch(async (err: unknown) => {
    await cleanUp();
    throw err;
  });
  return {
    mock,
    redis,
    upstream,
    clientId,
    clientJwk,
    encryptionKey,
    config,
    provider: vestibule.provider,
    store: vestibule.store,
    app: vestibule.public,
    admin: vestibule.admin,
    tokenApi: vestibule.token,
    metrics,
    cutTunnels: vestibule.cutTunnels,
    activity: vestibule.activity,
    ingress,
    origin,
    logLines: () =>
      lines
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((x) => JSON.parse(x) as Record<string, unknown>),
    rawLogs: () => lines.join(''),
    close: async () => {
      // A test that left a websocket open must not hold the listener's close forever.
      vestibule.cutTunnels();
      await vestibule.public.close();
      await vestibule.token.close();
      await vestibule.admin.close();
      await vestibule.store.close();
      await vestibule.tracer.shutdown();
      if (owned) {
        await mock.close();
        await upstream.close();
        await redis.close();
      }
    },
  };
}

/** Options for a second vestibule instance behind the same mock, Redis, upstream, client and key as `h`. */
export function sharedWith(h: Harness): NonNullable<HarnessOptions['shared']> {
  return {
    mock: h.mock,
    redis: h.redis,
    upstream: h.upstream,
    clientId: h.clientId,
    clientJwk: h.clientJwk,
    encryptionKey: h.encryptionKey,
  };
}

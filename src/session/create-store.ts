import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { StoreConfig } from '../config/load.js';
import { MemoryStore } from './store-memory.js';
import { RedisStore, redisClientOptions, type ReplicaAck } from './store-redis.js';
import type { SessionStore } from './store.js';

/** Longest a session write waits for a replica's confirmation (below the 2 s command timeout). */
const REPLICA_ACK_TIMEOUT_MS = 1000;
/** How often a master is asked how many replicas it has (also after every (re)connect and every shortfall). */
const REPLICA_REFRESH_MS = 5000;
/** At most one warning of a kind per this period. */
const WARN_EVERY_MS = 10_000;

/** Where the store reports what it cannot fix itself; a pino logger fits. */
export interface StoreLogger {
  warn(obj: object, msg: string): void;
}

export interface CreateStoreOptions {
  /** Receives throttled warnings: connection errors, writes no replica confirmed in time. */
  readonly logger?: StoreLogger;
}

/**
 * Credentials, TLS and database from a redis:// or rediss:// URL, for topologies addressed by node lists (Sentinel,
 * Cluster), where the URL's host is ignored. With rediss:// every connection uses TLS, and each server's
 * certificate is checked against the address it is reached at (the master Sentinel names, each cluster node),
 * not against the URL's placeholder host.
 */
function urlOptions(url: string | undefined): RedisOptions {
  if (!url) return {};
  const u = new URL(url);
  const db = Number(u.pathname.slice(1) || '0');
  return {
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    ...(Number.isInteger(db) && db > 0 ? { db } : {}),
  };
}

/** `connected_slaves` of an `INFO replication` reply; 0 when absent (not a master, or INFO filtered). */
export function connectedReplicas(info: string): number {
  const n = Number(/^connected_slaves:(\d+)\s*$/m.exec(info)?.[1] ?? '0');
  return Number.isInteger(n) ? n : 0;
}

/**
 * At most one warning per period, counting the ones held back: a lagging replica or a dead node must not flood
 * the log with one line per request or per reconnect attempt.
 */
function throttledWarn(logger: StoreLogger | undefined, msg: string): (fields: object) => void {
  let lastAt = -Infinity;
  let held = 0;
  return (fields) => {
    const now = Date.now();
    if (now - lastAt < WARN_EVERY_MS) {
      held += 1;
      return;
    }
    logger?.warn({ ...fields, suppressedSinceLast: held }, msg);
    lastAt = now;
    held = 0;
  };
}

/** Connection errors surface to requests as STORE_UNAVAILABLE; the log gets a throttled trace of them. */
function reportErrors(client: Redis | Cluster, logger: StoreLogger | undefined): void {
  const warn = throttledWarn(logger, 'session store connection error');
  client.on('error', (err: Error) => warn({ err: { message: err.message } }));
}

function shortfallWarn(logger: StoreLogger | undefined): NonNullable<ReplicaAck['onShortfall']> {
  const warn = throttledWarn(
    logger,
    'session write not confirmed by a Redis replica in time: a failover now could lose it',
  );
  return (s) => warn({ ...s, timeoutMs: REPLICA_ACK_TIMEOUT_MS });
}

/**
 * WAIT for one replica whenever the master (standalone URL or Sentinel's current master) reports at least one.
 * The count is re-read on every (re)connect (a failover moves us to a new master), periodically, and after a
 * shortfall, so a master whose replica left stops paying the WAIT timeout on every write.
 */
async function masterReplicaAck(client: Redis, logger: StoreLogger | undefined): Promise<ReplicaAck> {
  let replicas = 0;
  const refresh = async (): Promise<void> => {
    if (client.status !== 'ready') return;
    try {
      replicas = connectedReplicas(await client.info('replication'));
    } catch {
      // Unreachable or INFO not allowed: keep the last count; the next refresh tries again.
    }
  };
  const onReady = (): void => void refresh();
  client.on('ready', onReady);
  const timer = setInterval(onReady, REPLICA_REFRESH_MS);
  timer.unref();
  await refresh();
  const log = shortfallWarn(logger);
  return {
    replicasFor: () => Math.min(1, replicas),
    timeoutMs: REPLICA_ACK_TIMEOUT_MS,
    onShortfall: (s) => {
      log(s);
      void refresh();
    },
    stop: () => {
      clearInterval(timer);
      client.off('ready', onReady);
    },
  };
}

/**
 * On Cluster, WAIT whenever the cluster has replicas at all. ioredis keeps that list current from its slot
 * refreshes. A master without a replica in a cluster where others have one pays the WAIT timeout and logs.
 */
function clusterReplicaAck(cluster: Cluster, logger: StoreLogger | undefined): ReplicaAck {
  return {
    replicasFor: () => (cluster.nodes('slave').length > 0 ? 1 : 0),
    timeoutMs: REPLICA_ACK_TIMEOUT_MS,
    onShortfall: shortfallWarn(logger),
  };
}

/** The session store for the configured backend. Redis is connected before this resolves, or it rejects. */
export async function createStore(config: StoreConfig, opts: CreateStoreOptions = {}): Promise<SessionStore> {
  if (config.kind === 'memory') return new MemoryStore();
  const base = redisClientOptions();
  if (config.kind === 'cluster') {
    const auth = urlOptions(config.url);
    const cluster = new Cluster(
      config.nodes.map((a) => ({ host: a.host, port: a.port })),
      {
        lazyConnect: true,
        enableOfflineQueue: false,
        redisOptions: { ...base, ...auth, lazyConnect: undefined },
        clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
        // With TLS, connect to nodes by the names given and announced, not addresses resolved first: a
        // certificate names the host, and its check needs that name (ioredis' advice for TLS clusters).
        ...(auth.tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
      },
    );
    reportErrors(cluster, opts.logger);
    await connectOrDisconnect(cluster);
    return new RedisStore(cluster, { replicaAck: clusterReplicaAck(cluster, opts.logger) });
  }
  let client: Redis;
  if (config.kind === 'redis') {
    client = new Redis(config.url, base);
  } else {
    const auth = urlOptions(config.url);
    client = new Redis({
      ...base,
      ...auth,
      sentinels: config.sentinels.map((a) => ({ host: a.host, port: a.port })),
      name: config.master,
      ...(auth.password ? { sentinelPassword: auth.password } : {}),
      // `tls` alone is ignored in Sentinel mode: without these, ioredis asks the Sentinels AND talks to the
      // master in plaintext, sending the password and every session record in clear.
      ...(auth.tls ? { enableTLSForSentinelMode: true, sentinelTLS: auth.tls } : {}),
    });
  }
  reportErrors(client, opts.logger);
  await connectOrDisconnect(client);
  return new RedisStore(client, { replicaAck: await masterReplicaAck(client, opts.logger) });
}

async function connectOrDisconnect(client: Redis | Cluster): Promise<void> {
  try {
    await client.connect();
  } catch (err) {
    client.disconnect();
    throw err;
  }
}

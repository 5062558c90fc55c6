import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { StoreConfig } from '../config/load.js';
import { MemoryStore } from './store-memory.js';
import { RedisStore, redisClientOptions } from './store-redis.js';
import type { SessionStore } from './store.js';

/** Credentials, TLS and database from a redis:// or rediss:// URL, for topologies addressed by node lists. */
function urlOptions(url: string | undefined): RedisOptions {
  if (!url) return {};
  const u = new URL(url);
  const db = Number(u.pathname.slice(1) || '0');
  return {
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: { servername: u.hostname } } : {}),
    ...(Number.isInteger(db) && db > 0 ? { db } : {}),
  };
}

/** The session store for the configured backend. Redis is connected before this resolves, or it rejects. */
export async function createStore(config: StoreConfig): Promise<SessionStore> {
  if (config.kind === 'memory') return new MemoryStore();
  const base = redisClientOptions();
  let client: Redis | Cluster;
  if (config.kind === 'redis') {
    client = new Redis(config.url, base);
  } else if (config.kind === 'sentinel') {
    const auth = urlOptions(config.url);
    client = new Redis({
      ...base,
      ...auth,
      sentinels: config.sentinels.map((a) => ({ host: a.host, port: a.port })),
      name: config.master,
      ...(auth.password ? { sentinelPassword: auth.password } : {}),
    });
  } else {
    const auth = urlOptions(config.url);
    client = new Cluster(
      config.nodes.map((a) => ({ host: a.host, port: a.port })),
      {
        lazyConnect: true,
        enableOfflineQueue: false,
        redisOptions: { ...base, ...auth, lazyConnect: undefined },
        clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
      },
    );
  }
  const store = new RedisStore(client);
  try {
    await client.connect();
  } catch (err) {
    client.disconnect();
    throw err;
  }
  return store;
}

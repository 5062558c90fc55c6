import { Redis } from 'ioredis';
import type { StoreConfig } from '../config/load.js';
import { MemoryStore } from './store-memory.js';
import { RedisStore, redisClientOptions } from './store-redis.js';
import type { SessionStore } from './store.js';

/** The session store for the configured backend. Redis is connected before this resolves, or it rejects. */
export async function createStore(config: StoreConfig): Promise<SessionStore> {
  if (config.kind === 'memory') return new MemoryStore();
  const client = new Redis(config.url, redisClientOptions());
  const store = new RedisStore(client);
  try {
    await client.connect();
  } catch (err) {
    client.disconnect();
    throw err;
  }
  return store;
}

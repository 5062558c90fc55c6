import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { MemoryStore } from '../../src/session/store-memory.js';
import { RedisStore, redisClientOptions } from '../../src/session/store-redis.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { sessionStoreContract } from './session-store-contract.js';

let clock = 1_700_000_000_000;
sessionStoreContract('memory', () => ({
  store: new MemoryStore(() => clock),
  wait: (ms) => {
    clock += ms;
    return Promise.resolve();
  },
}));

let redis: RedisServer;
let client: Redis;
before(async () => {
  redis = await startRedis();
  client = new Redis(redis.url, redisClientOptions());
  await client.connect();
});
after(async () => {
  client.disconnect();
  await redis.close();
});
sessionStoreContract('redis', () => ({ store: new RedisStore(client), wait: (ms) => sleep(ms) }));

describe('RedisStore when redis is down', () => {
  it('fails fast with STORE_UNAVAILABLE instead of hanging', async () => {
    const dead = new Redis('redis://127.0.0.1:1', redisClientOptions({ commandTimeoutMs: 500 }));
    const store = new RedisStore(dead);
    await assert.rejects(store.get('x'), (err: Error & { code?: string }) => err.code === 'STORE_UNAVAILABLE');
    dead.disconnect();
  });
});

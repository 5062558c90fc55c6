import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { MemoryStore } from '../../src/session/store-memory.js';
import { RedisStore, redisClientOptions } from '../../src/session/store-redis.js';
import type { SessionStore } from '../../src/session/store.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';

/** The one contract every SessionStore keeps; run against the in-memory store and a real redis-server. */
function contract(name: string, make: () => { store: SessionStore; wait: (ms: number) => Promise<void> }): void {
  describe(`SessionStore contract: ${name}`, () => {
    let store: SessionStore;
    let wait: (ms: number) => Promise<void>;
    let n = 0;
    const k = (s: string): string => `t${++n}:s:{${s}}`;
    before(() => ({ store, wait } = make()));

    it('get() returns what set() wrote and null once the TTL passes', async () => {
      const key = k('a');
      await store.set(key, Buffer.from('v1'), 150);
      assert.deepEqual(await store.get(key), Buffer.from('v1'));
      await wait(300);
      assert.equal(await store.get(key), null);
    });

    it('replace() keeps the TTL and fails when the value is gone', async () => {
      const key = k('b');
      assert.equal(await store.replace(key, Buffer.from('x')), false);
      assert.equal(await store.get(key), null, 'replace must not create');
      await store.set(key, Buffer.from('v1'), 200);
      assert.equal(await store.replace(key, Buffer.from('v2')), true);
      assert.deepEqual(await store.get(key), Buffer.from('v2'));
      await wait(350);
      assert.equal(await store.get(key), null, 'TTL kept across replace');
    });

    it('replace() with a fence writes only while the lock holds the token', async () => {
      const key = k('c');
      const lock = `${key}:lock`;
      await store.set(key, Buffer.from('v1'), 10_000);
      assert.equal(await store.setIfAbsent(lock, 'me', 10_000), true);
      assert.equal(await store.replace(key, Buffer.from('v2'), { key: lock, token: 'other' }), false);
      assert.deepEqual(await store.get(key), Buffer.from('v1'));
      assert.equal(await store.replace(key, Buffer.from('v3'), { key: lock, token: 'me' }), true);
      assert.deepEqual(await store.get(key), Buffer.from('v3'));
      assert.equal(await store.deleteIf(lock, 'me'), true);
      assert.equal(await store.replace(key, Buffer.from('v4'), { key: lock, token: 'me' }), false, 'lease gone');
    });

    it('setIfAbsent() lets one caller win; extendIf()/deleteIf() act only for the holder', async () => {
      const lock = k('d');
      assert.equal(await store.setIfAbsent(lock, 'a', 150), true);
      assert.equal(await store.setIfAbsent(lock, 'b', 150), false);
      assert.equal(await store.extendIf(lock, 'b', 10_000), false);
      assert.equal(await store.deleteIf(lock, 'b'), false);
      assert.equal(await store.extendIf(lock, 'a', 600), true);
      await wait(300);
      assert.equal(await store.setIfAbsent(lock, 'b', 150), false, 'extended lease still held');
      assert.equal(await store.deleteIf(lock, 'a'), true);
      assert.equal(await store.setIfAbsent(lock, 'b', 150), true);
    });

    it('delete() counts the keys that existed', async () => {
      const a = k('e');
      const b = k('f');
      await store.set(a, Buffer.from('1'), 10_000);
      assert.equal(await store.delete(a, b), 1);
      assert.equal(await store.get(a), null);
      assert.equal(await store.delete(), 0);
    });

    it('sets: add, list, remove, and live at least the longest TTL added', async () => {
      const s = k('g');
      assert.deepEqual(await store.setMembers(s), []);
      await store.addToSet(s, 'one', 150);
      await store.addToSet(s, 'two', 600);
      assert.deepEqual((await store.setMembers(s)).sort(), ['one', 'two']);
      await wait(300);
      assert.deepEqual((await store.setMembers(s)).sort(), ['one', 'two']);
      await store.removeFromSet(s, 'one');
      assert.deepEqual(await store.setMembers(s), ['two']);
    });

    it('binary values round-trip unchanged', async () => {
      const key = k('h');
      const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      await store.set(key, bytes, 10_000);
      assert.deepEqual(await store.get(key), bytes);
    });
  });
}

let clock = 1_700_000_000_000;
contract('memory', () => ({
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
contract('redis', () => ({ store: new RedisStore(client), wait: (ms) => sleep(ms) }));

describe('RedisStore when redis is down', () => {
  it('fails fast with STORE_UNAVAILABLE instead of hanging', async () => {
    const dead = new Redis('redis://127.0.0.1:1', redisClientOptions({ commandTimeoutMs: 500 }));
    const store = new RedisStore(dead);
    await assert.rejects(store.get('x'), (err: Error & { code?: string }) => err.code === 'STORE_UNAVAILABLE');
    dead.disconnect();
  });
});

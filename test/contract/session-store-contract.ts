import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { SessionStore } from '../../src/session/store.js';

/** A store under test and how to let time pass for it (a fake clock, or real sleep for Redis). */
export interface ContractSubject {
  readonly store: SessionStore;
  readonly wait: (ms: number) => Promise<void>;
}

/**
 * The one contract every SessionStore keeps, as a `describe` block. Run against the in-memory store, a
 * standalone redis-server, a Redis Cluster and Sentinel. `make` runs in the block's `before`, after any
 * file-level `before` that starts servers. Keys are `t<n>:s:{<letter>}`: each case has its own hash tag, so
 * on Cluster the cases spread over slots and nodes.
 */
export function sessionStoreContract(name: string, make: () => ContractSubject | Promise<ContractSubject>): void {
  describe(`SessionStore contract: ${name}`, () => {
    let store: SessionStore;
    let wait: (ms: number) => Promise<void>;
    let n = 0;
    const k = (s: string): string => `t${++n}:s:{${s}}`;
    before(async () => {
      ({ store, wait } = await make());
    });

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

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { SessionRecord } from './record.js';
import { SessionCache } from './session-cache.js';
import type { LoadedSession } from './sessions.js';

function session(id: string, accessToken = `at-${id}`): LoadedSession {
  const record: SessionRecord = {
    createdAt: 0,
    endsAt: 1,
    timeoutAt: null,
    refreshedAt: 0,
    accessToken,
    accessTokenExpiresAt: 1,
    refreshToken: null,
    idToken: null,
    claims: { sub: id },
  };
  return { ticket: { raw: randomBytes(32), id, stale: false }, key: `k:${id}`, record, stale: false };
}

function clocked(o: { maxEntries?: number; ttlMs?: number } = {}) {
  const now = { t: 1_000 };
  return { now, cache: new SessionCache({ ...o, now: () => now.t }) };
}

describe('SessionCache', () => {
  it('admits a session read from the store on its second read, not its first', () => {
    const { cache } = clocked();
    cache.offer('a', session('a'), cache.epoch);
    assert.equal(cache.get('a'), undefined, 'read once: not cached');
    assert.equal(cache.size, 0);
    cache.offer('a', session('a', 'at-second'), cache.epoch);
    assert.equal(cache.get('a')?.record.accessToken, 'at-second');
  });

  it('lets a stream of sessions read once pass through without evicting a busy one', () => {
    const { cache } = clocked({ maxEntries: 50 });
    cache.offer('busy', session('busy'), cache.epoch);
    cache.offer('busy', session('busy'), cache.epoch);
    // 500 distinct sessions in turn, twice round: each is read again long after the doorkeeper forgot it.
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 500; i++) cache.offer(`scan-${i}`, session(`scan-${i}`), cache.epoch);
    }
    assert.equal(cache.size, 1, 'nothing of the scan was cached');
    assert.equal(cache.get('busy')?.record.accessToken, 'at-busy');
  });

  it('admits at once the next read of a session whose entry expired (it was in use)', () => {
    const { now, cache } = clocked({ ttlMs: 2_000 });
    cache.offer('a', session('a'), cache.epoch);
    cache.offer('a', session('a'), cache.epoch);
    now.t += 2_000;
    assert.equal(cache.get('a'), undefined, 'expired');
    cache.offer('a', session('a', 'at-fresh'), cache.epoch);
    assert.equal(cache.get('a')?.record.accessToken, 'at-fresh');
  });

  it('set() caches at once (a session just refreshed or extended is in use) and replaces the entry', () => {
    const { cache } = clocked();
    cache.set('a', session('a', 'at-1'), cache.epoch);
    assert.equal(cache.get('a')?.record.accessToken, 'at-1');
    cache.set('a', session('a', 'at-2'), cache.epoch);
    assert.equal(cache.get('a')?.record.accessToken, 'at-2');
    cache.delete('a');
    assert.equal(cache.get('a'), undefined);
  });

  it('holds at most maxEntries, dropping the least recently cached', () => {
    const { cache } = clocked({ maxEntries: 3 });
    for (const id of ['a', 'b', 'c', 'd']) cache.set(id, session(id), cache.epoch);
    assert.equal(cache.size, 3);
    assert.equal(cache.get('a'), undefined);
    assert.ok(cache.get('d'));
  });

  it('caches nothing while disabled, and forgets what it had seen', () => {
    const { cache } = clocked();
    cache.set('a', session('a'), cache.epoch);
    cache.offer('b', session('b'), cache.epoch);
    cache.setEnabled(false);
    assert.equal(cache.get('a'), undefined);
    cache.set('c', session('c'), cache.epoch);
    cache.offer('b', session('b'), cache.epoch);
    assert.equal(cache.size, 0);
    cache.setEnabled(true);
    cache.offer('b', session('b'), cache.epoch);
    assert.equal(cache.get('b'), undefined, 'the read before the outage does not count');
    cache.offer('b', session('b'), cache.epoch);
    assert.ok(cache.get('b'));
  });

  it('keeps out a read or write that an invalidation overtook (a logout published while it was in flight)', () => {
    const { cache } = clocked();
    cache.offer('a', session('a'), cache.epoch);
    const before = cache.epoch; // a second read of 'a' starts
    cache.delete('a'); // another replica's logout arrives meanwhile
    cache.offer('a', session('a'), before);
    assert.equal(cache.get('a'), undefined, 'the read that started before the logout is not cached');
    const write = cache.epoch;
    cache.delete('b');
    cache.set('a', session('a'), write);
    assert.equal(cache.get('a'), undefined, 'nor a write that an invalidation overtook');
    cache.offer('a', session('a'), cache.epoch);
    cache.offer('a', session('a'), cache.epoch);
    assert.ok(cache.get('a'), 'reads that start afterwards are cached again');
  });

  it('remembers a session again as the most recent when its entry expires, so it is not the first forgotten', () => {
    const { now, cache } = clocked({ maxEntries: 3, ttlMs: 2_000 });
    for (const id of ['a', 'b', 'c']) cache.offer(id, session(id), cache.epoch); // remembered: a, b, c
    cache.set('a', session('a'), cache.epoch); // written (refreshed) while still remembered
    now.t += 2_000;
    assert.equal(cache.get('a'), undefined, 'expired; remembered again: b, c, a');
    cache.offer('d', session('d'), cache.epoch); // forgets the oldest: b
    cache.offer('a', session('a'), cache.epoch);
    assert.ok(cache.get('a'), "'a' was still remembered");
    cache.offer('b', session('b'), cache.epoch);
    assert.equal(cache.get('b'), undefined, "'b' had been forgotten");
  });
});

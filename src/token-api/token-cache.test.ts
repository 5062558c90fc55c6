import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cacheTtlMs, exchangeCacheKey, TokenCache, tokenCacheKey, type IssuedToken } from './token-cache.js';

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A loader that hands out `t1`, `t2`, … and counts its calls. */
function counter(expiresIn = 3600): { load: () => Promise<IssuedToken>; calls: () => number } {
  let n = 0;
  return {
    load: () => Promise.resolve({ accessToken: `t${++n}`, expiresIn }),
    calls: () => n,
  };
}

describe('cacheTtlMs', () => {
  it('keeps 120 s of margin, or half the lifetime for short-lived tokens', () => {
    assert.equal(cacheTtlMs(3600), 3_480_000);
    assert.equal(cacheTtlMs(121), 1_000);
    assert.equal(cacheTtlMs(120), 60_000);
    assert.equal(cacheTtlMs(100), 50_000);
    assert.equal(cacheTtlMs(1), 500);
  });
});

describe('cache keys', () => {
  it('separate grants, providers and scopes; the user token is hashed, never stored', () => {
    const a = tokenCacheKey('entra_id', 'api://a/.default');
    assert.notEqual(a, tokenCacheKey('entra_id', 'api://b/.default'));
    assert.notEqual(a, exchangeCacheKey('entra_id', 'api://a/.default', 'x'));
    const e = exchangeCacheKey('entra_id', 'api://a/.default', 'secret.user.token');
    assert.equal(e.includes('secret.user.token'), false);
    assert.equal(e, exchangeCacheKey('entra_id', 'api://a/.default', 'secret.user.token'));
    assert.notEqual(e, exchangeCacheKey('entra_id', 'api://a/.default', 'other.user.token'));
  });

  it('keep resource and authorization_details apart, in a key of bounded length', () => {
    const scope = 'api://a/.default';
    const big = 'r'.repeat(100_000);
    const k = tokenCacheKey('entra_id', scope, big);
    assert.ok(k.length < 200, `key of ${k.length} characters`);
    assert.notEqual(k, tokenCacheKey('entra_id', scope, `${big}x`));
    assert.notEqual(tokenCacheKey('entra_id', scope, 'x'), tokenCacheKey('entra_id', scope, undefined, 'x'));
    assert.notEqual(tokenCacheKey('entra_id', scope, 'x'), tokenCacheKey('entra_id', scope));
    assert.equal(tokenCacheKey('entra_id', scope, 'x', '[]'), tokenCacheKey('entra_id', scope, 'x', '[]'));
  });
});

describe('TokenCache', () => {
  it('serves a hit without calling the IdP, with the real remaining lifetime', async () => {
    let now = 1_000_000;
    const cache = new TokenCache({ now: () => now });
    const c = counter();
    assert.deepEqual(await cache.get('k', c.load), { accessToken: 't1', expiresIn: 3600, shared: false });
    now += 100_400;
    assert.deepEqual(await cache.get('k', c.load), { accessToken: 't1', expiresIn: 3499, shared: true });
    assert.equal(c.calls(), 1);
  });

  it('expires entries at expires_in − 120 s', async () => {
    let now = 0;
    const cache = new TokenCache({ now: () => now });
    const c = counter();
    await cache.get('k', c.load);
    now = 3_479_999;
    assert.equal((await cache.get('k', c.load)).accessToken, 't1');
    now = 3_480_000;
    const renewed = await cache.get('k', c.load);
    assert.deepEqual(renewed, { accessToken: 't2', expiresIn: 3600, shared: false });
    assert.equal(c.calls(), 2);
  });

  it('expires short-lived tokens at half their lifetime', async () => {
    let now = 0;
    const cache = new TokenCache({ now: () => now });
    const c = counter(100);
    await cache.get('k', c.load);
    now = 49_999;
    assert.deepEqual(await cache.get('k', c.load), { accessToken: 't1', expiresIn: 50, shared: true });
    now = 50_000;
    assert.equal((await cache.get('k', c.load)).accessToken, 't2');
  });

  it('skip_cache fetches a new token and replaces the entry', async () => {
    const cache = new TokenCache({ now: () => 0 });
    const c = counter();
    await cache.get('k', c.load);
    assert.equal((await cache.get('k', c.load, true)).accessToken, 't2');
    assert.equal((await cache.get('k', c.load)).accessToken, 't2');
    assert.equal(c.calls(), 2);
  });

  it('coalesces concurrent identical requests into one IdP call', async () => {
    const cache = new TokenCache();
    const gate = deferred<IssuedToken>();
    let calls = 0;
    const load = (): Promise<IssuedToken> => {
      calls++;
      return gate.promise;
    };
    const all = Array.from({ length: 100 }, () => cache.get('k', load));
    gate.resolve({ accessToken: 'only', expiresIn: 3600 });
    const results = await Promise.all(all);
    assert.equal(calls, 1);
    assert.ok(results.every((r) => r.accessToken === 'only'));
    assert.deepEqual(
      results.map((r) => r.shared).filter((s) => !s),
      [false],
    );
  });

  it('does not coalesce different keys', async () => {
    const cache = new TokenCache();
    const c = counter();
    const [a, b] = await Promise.all([cache.get('a', c.load), cache.get('b', c.load)]);
    assert.notEqual(a.accessToken, b.accessToken);
    assert.equal(c.calls(), 2);
  });

  it('never caches errors: every waiter gets the error, the next request calls the IdP again', async () => {
    const cache = new TokenCache();
    const gate = deferred<IssuedToken>();
    let calls = 0;
    const failing = (): Promise<IssuedToken> => {
      calls++;
      return gate.promise;
    };
    const waiting = [cache.get('k', failing), cache.get('k', failing)];
    gate.reject(new Error('invalid_grant'));
    for (const w of waiting) await assert.rejects(w, /invalid_grant/);
    assert.equal(calls, 1);
    assert.equal(cache.size, 0);
    const c = counter();
    assert.equal((await cache.get('k', c.load)).accessToken, 't1');
  });

  it('survives a loader that throws synchronously', async () => {
    const cache = new TokenCache();
    await assert.rejects(
      cache.get('k', () => {
        throw new Error('sync');
      }),
      /sync/,
    );
    const c = counter();
    assert.equal((await cache.get('k', c.load)).accessToken, 't1');
  });

  it('is bounded: the least recently used entry is evicted', async () => {
    const cache = new TokenCache({ maxEntries: 2 });
    const c = counter();
    await cache.get('a', c.load); // t1
    await cache.get('b', c.load); // t2
    await cache.get('a', c.load); // hit: a is now the most recent
    await cache.get('c', c.load); // t3, evicts b
    assert.equal(cache.size, 2);
    assert.equal((await cache.get('a', c.load)).accessToken, 't1');
    assert.equal((await cache.get('b', c.load)).accessToken, 't4');
    assert.equal(c.calls(), 4);
  });

  it('never reports a negative lifetime', async () => {
    // A clock that jumps 2 s per reading: by the time the token is served it has already expired.
    let now = 0;
    const cache = new TokenCache({ now: () => (now += 2_000) });
    assert.deepEqual(await cache.get('k', () => Promise.resolve({ accessToken: 'x', expiresIn: 1 })), {
      accessToken: 'x',
      expiresIn: 0,
      shared: false,
    });
  });
});

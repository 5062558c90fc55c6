import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { JwksCache } from './jwks.js';

async function rsaJwk(kid: string, extra: Partial<JWK> = {}): Promise<JWK> {
  const { publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(publicKey)), kid, use: 'sig', ...extra };
}

/** A JWKS endpoint whose answer the test changes, counting fetches. */
function endpoint(keys: JWK[]): {
  fetch: (url: string) => Promise<Response>;
  set: (next: JWK[] | number) => void;
  count: () => number;
} {
  let answer: JWK[] | number = keys;
  let n = 0;
  return {
    fetch: async () => {
      n++;
      await new Promise((resolve) => setImmediate(resolve));
      return typeof answer === 'number' ? new Response('down', { status: answer }) : Response.json({ keys: answer });
    },
    set: (next) => {
      answer = next;
    },
    count: () => n,
  };
}

describe('JwksCache', () => {
  it('keeps only RSA signature keys usable with RS256', async () => {
    const { publicKey: ec } = await generateKeyPair('ES256', { extractable: true });
    const ep = endpoint([
      await rsaJwk('rsa'),
      await rsaJwk('enc', { use: 'enc' }),
      await rsaJwk('rs512', { alg: 'RS512' }),
      { ...(await exportJWK(ec)), kid: 'ec' },
      { kty: 'RSA', kid: 'broken', n: 'AQAB' },
    ]);
    const cache = new JwksCache({ jwksUri: 'https://idp/keys', fetch: ep.fetch, now: () => 0 });
    await cache.load();
    assert.equal(cache.size, 1);
    assert.ok(await cache.key('rsa'));
  });

  it('refuses to start without a usable key', async () => {
    const cache = new JwksCache({ jwksUri: 'https://idp/keys', fetch: endpoint([]).fetch });
    await assert.rejects(cache.load(), /no usable RS256 signing key/);
    const down = endpoint([]);
    down.set(503);
    await assert.rejects(new JwksCache({ jwksUri: 'https://idp/keys', fetch: down.fetch }).load(), /HTTP 503/);
  });

  it('refetches on an unknown kid at most once per cooldown', async () => {
    let now = 0;
    const ep = endpoint([await rsaJwk('k1')]);
    const cache = new JwksCache({ jwksUri: 'https://idp/keys', fetch: ep.fetch, now: () => now, cooldownMs: 60_000 });
    await cache.load();
    // The start-up fetch does not count: a key rolled over right after start is found at once.
    ep.set([await rsaJwk('k1'), await rsaJwk('k2')]);
    assert.ok(await cache.key('k2'));
    assert.equal(ep.count(), 2);
    now = 59_999;
    assert.equal(await cache.key('forged-1'), undefined);
    assert.equal(await cache.key('forged-2'), undefined);
    assert.equal(ep.count(), 2);
    now = 60_000;
    assert.equal(await cache.key('forged-3'), undefined);
    assert.equal(ep.count(), 3);
    assert.ok(await cache.key('k1'));
    assert.equal(ep.count(), 3);
  });

  it('lets concurrent lookups of a new kid wait for the one fetch under way', async () => {
    let now = 0;
    const ep = endpoint([await rsaJwk('k1')]);
    const cache = new JwksCache({ jwksUri: 'https://idp/keys', fetch: ep.fetch, now: () => now });
    await cache.load();
    now = 3_600_000;
    ep.set([await rsaJwk('rolled')]);
    const keys = await Promise.all(Array.from({ length: 20 }, () => cache.key('rolled')));
    assert.ok(keys.every((k) => k !== undefined));
    assert.equal(ep.count(), 2);
  });

  it('keeps the last good keys when the endpoint fails or answers nothing usable', async () => {
    let now = 0;
    const ep = endpoint([await rsaJwk('k1')]);
    const cache = new JwksCache({ jwksUri: 'https://idp/keys', fetch: ep.fetch, now: () => now });
    await cache.load();
    ep.set(503);
    now = 1_000_000;
    assert.equal(await cache.key('unknown'), undefined);
    assert.ok(await cache.key('k1'));
    ep.set([]);
    now = 2_000_000;
    assert.equal(await cache.key('unknown'), undefined);
    assert.ok(await cache.key('k1'));
    assert.equal(ep.count(), 3);
  });

  it('drops a key the identity provider no longer publishes', async () => {
    let now = 0;
    const ep = endpoint([await rsaJwk('old')]);
    const cache = new JwksCache({ jwksUri: 'https://idp/keys', fetch: ep.fetch, now: () => now });
    await cache.load();
    ep.set([await rsaJwk('new')]);
    now = 1_000_000;
    assert.ok(await cache.key('new'));
    assert.equal(await cache.key('old'), undefined);
  });
});

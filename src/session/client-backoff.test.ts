import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClientBackoff, MIN_IDP_BACKOFF_MS } from './client-backoff.js';
import { MemoryStore } from './store-memory.js';

const silent = { warn: () => undefined } as unknown as ConstructorParameters<typeof ClientBackoff>[0]['log'];

/** An error as openid-client rejects with for a throttled token request. */
function throttled(retryAfter: string): Error {
  return Object.assign(new Error('429'), { response: { headers: new Headers({ 'retry-after': retryAfter }) } });
}

describe('ClientBackoff.guard (a token-endpoint call other than a refresh or a login)', () => {
  it('starts the back-off when the IdP throttles the call, then refuses without calling until it ends', async () => {
    let now = 1_000_000;
    const store = new MemoryStore(() => now);
    const backoff = new ClientBackoff({ store, key: 'k', now: () => now, log: silent });
    let calls = 0;
    await assert.rejects(
      backoff.guard(() => {
        calls++;
        return Promise.reject(throttled('30'));
      }),
      /429/,
    );
    assert.equal(backoff.known(), now + 30_000);
    await assert.rejects(
      backoff.guard(() => {
        calls++;
        return Promise.resolve('token');
      }),
      /throttling this client until/,
    );
    assert.equal(calls, 1, 'the IdP was not asked again during the back-off');
    // Another replica reads it from the store.
    const other = new ClientBackoff({ store, key: 'k', now: () => now, log: silent });
    assert.equal(await other.until(), now + 30_000);
    now += 30_001;
    assert.equal(await backoff.guard(() => Promise.resolve('token')), 'token');
  });

  it('an ordinary failure starts no back-off; a Retry-After of 0 still waits the minimum', async () => {
    const now = 5_000_000;
    const backoff = new ClientBackoff({ store: new MemoryStore(() => now), key: 'k', now: () => now, log: silent });
    await assert.rejects(backoff.guard(() => Promise.reject(new Error('ECONNREFUSED'))));
    assert.equal(backoff.known(), undefined);
    await assert.rejects(backoff.guard(() => Promise.reject(throttled('0'))));
    assert.equal(backoff.known(), now + MIN_IDP_BACKOFF_MS);
  });
});

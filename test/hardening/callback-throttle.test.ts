import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness } from '../support/harness.js';
import { login } from '../support/mock-login.js';
import { NAVIGATION } from '../support/http-client.js';
import { TestClient } from '../support/http-client.js';
import { TestClock } from '../support/clock.js';

// Issue 15, item 9: /oauth2/login is stateless and its loop limit lives in a cookie the client controls, so
// every fresh client bought one token-endpoint call at the callback with a junk code: a lever to make Entra
// throttle our client id. Now callbacks that do not complete a login are bounded per client address (30, then
// 10 a minute) and for the whole process, answered 429 with Retry-After before the token endpoint is called.

/**
 * The attacker's address, as the ingress controller (the harness's client, 127.0.0.1, a trusted proxy here)
 * appends it: per-address buckets are kept only when VESTIBULE_TRUSTED_PROXIES is set (review 2, finding 1).
 */
const ATTACKER = '203.0.113.9';

/** A fresh client starts a login and brings a junk code back to the callback with its genuine login cookie. */
async function junkCallback(h: Harness): Promise<number> {
  const client = new TestClient();
  client.defaultHeaders = { 'x-forwarded-for': ATTACKER };
  const start = await client.get(`${h.ingress}/oauth2/login`, NAVIGATION);
  assert.equal(start.status, 302);
  const state = new URL(start.location ?? '').searchParams.get('state') ?? '';
  const res = await client.get(`${h.ingress}/oauth2/callback?state=${state}&code=junk-${state}`, NAVIGATION);
  if (res.status === 429) assert.equal(res.headers.get('retry-after'), '10');
  return res.status;
}

describe('callback throttle', () => {
  let h: Harness;
  const clock = new TestClock();
  before(async () => {
    h = await startHarness({ logLevel: 'warn', now: clock.now, env: { VESTIBULE_TRUSTED_PROXIES: '127.0.0.1/32' } });
  });
  after(() => h.close());

  it('token-endpoint flood: junk codes from one address get 429 after the bound, and Entra sees no more', async () => {
    const before = h.mock.grantCount('authorization_code');
    const statuses: number[] = [];
    for (let i = 0; i < 45; i++) statuses.push(await junkCallback(h));
    const redeemed = h.mock.grantCount('authorization_code') - before;
    assert.deepEqual(statuses.slice(0, 30), Array<number>(30).fill(502), 'the first 30 reach the token endpoint');
    assert.deepEqual(statuses.slice(30), Array<number>(15).fill(429), 'then 429, before the token endpoint');
    assert.equal(redeemed, 30, 'the identity provider saw 30 token requests, not 45');
    const metrics = await h.metrics.registry.metrics();
    assert.match(metrics, /vestibule_callback_throttled_total\{scope="address"\} 15/);
  });

  it('token-endpoint flood: a real login completes once the bucket refilled, and gives its token back', async () => {
    clock.advance(60_000);
    for (let i = 0; i < 3; i++) {
      const user = new TestClient();
      user.defaultHeaders = { 'x-forwarded-for': ATTACKER };
      const { callback } = await login(h, user);
      assert.equal(callback.status, 302, `login ${i} completed`);
    }
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness } from '../support/harness.js';
import { login } from '../support/mock-login.js';
import { NAVIGATION, TestClient } from '../support/http-client.js';
import { TestClock } from '../support/clock.js';

// Review 2, finding 1: the callback throttle counted callbacks per socket peer, which behind an ingress
// controller is the controller's address, shared by every user: ~30 junk-code callbacks from one attacker, then
// 10 a minute, gave every real user 429 at the callback. Per-address buckets now key only on an address we can
// trust as the client's (X-Forwarded-For from a VESTIBULE_TRUSTED_PROXIES peer); without trusted proxies only
// the global bucket applies.

/** A fresh client starts a login and brings a junk code back, as an attacker behind the same ingress would. */
async function junkCallback(h: Harness, clientIp: string): Promise<number> {
  const client = new TestClient();
  client.defaultHeaders = { 'x-forwarded-for': clientIp };
  const start = await client.get(`${h.ingress}/oauth2/login`, NAVIGATION);
  const state = new URL(start.location ?? '').searchParams.get('state') ?? '';
  const res = await client.get(`${h.ingress}/oauth2/callback?state=${state}&code=junk-${state}`, NAVIGATION);
  return res.status;
}

describe('login DoS behind the ingress, trusted proxy 127.0.0.1/32', () => {
  let h: Harness;
  const clock = new TestClock();
  before(async () => {
    // The harness's client is 127.0.0.1: here it plays the ingress controller, which appends the real client.
    h = await startHarness({ logLevel: 'warn', now: clock.now, env: { VESTIBULE_TRUSTED_PROXIES: '127.0.0.1/32' } });
  });
  after(() => h.close());

  it("login DoS: junk codes from one attacker behind the ingress never throttle another user's login", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 35; i++) statuses.push(await junkCallback(h, '203.0.113.66'));
    assert.deepEqual(statuses.slice(30), Array<number>(5).fill(429), 'the attacker is throttled at his own address');
    const victim = new TestClient();
    victim.defaultHeaders = { 'x-forwarded-for': '198.51.100.7' };
    const { callback } = await login(h, victim);
    assert.equal(callback.status, 302, `another user's login must complete (got ${callback.status})`);
  });
});

describe('login DoS behind the ingress, VESTIBULE_TRUSTED_PROXIES unset (the default)', () => {
  let h: Harness;
  const clock = new TestClock();
  before(async () => {
    // Every connection comes from the controller's address (here 127.0.0.1), which appends the real client to
    // X-Forwarded-For; vestibule cannot trust that header, so no per-address bucket is kept.
    h = await startHarness({ logLevel: 'info', now: clock.now });
  });
  after(() => h.close());

  it('login DoS: 30 junk codes from one attacker do not make other users behind the ingress get 429', async () => {
    for (let i = 0; i < 30; i++) await junkCallback(h, '203.0.113.66');
    const victim = new TestClient();
    victim.defaultHeaders = { 'x-forwarded-for': '198.51.100.7' };
    const { callback } = await login(h, victim);
    assert.equal(callback.status, 302, `another user's login must complete (got ${callback.status})`);
  });

  it('login DoS: the start-up log says per-client bounds need trusted proxies', () => {
    const said = h.logLines().filter((l) => String(l.msg).includes('VESTIBULE_TRUSTED_PROXIES is unset'));
    assert.equal(said.length, 1);
  });
});

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { sharedWith, startHarness, type Harness } from '../support/harness.js';
import { login } from '../support/mock-login.js';
import { TestClient } from '../support/http-client.js';
import { TestClock } from '../support/clock.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

/**
 * Issue 15, follow-up: Entra throttles the whole client (our client id), not one session. After one 429 every
 * other session that comes due, on every replica, must keep its still-valid token and leave the token endpoint
 * alone until Retry-After has passed; otherwise our own retries prolong the throttling episode.
 */
describe('IdP throttling storm: one back-off for the whole client, across replicas', () => {
  const clock = new TestClock();
  const env = { VESTIBULE_REFRESH_MARGIN: '10m' };
  let a: Harness;
  let b: Harness;
  before(async () => {
    a = await startHarness({ now: clock.now, env });
    b = await startHarness({ now: clock.now, env, shared: sharedWith(a) });
  });
  after(async () => {
    await b.close();
    await a.close();
  });
  beforeEach(() => a.mock.clearFailures());

  async function newSession(): Promise<string> {
    const browser = new TestClient();
    await login(a, browser);
    return `vestibule.session=${browser.cookie('vestibule.session') ?? ''}`;
  }
  async function bearerSeen(h: Harness, cookie: string): Promise<string | undefined> {
    const res = await fetch(`${h.ingress}/echo`, { headers: { cookie } });
    const body = (await res.json()) as { headers: Record<string, string> };
    return body.headers.authorization;
  }
  const refreshes = (): number => a.mock.grantCount('refresh_token');
  const refreshEndpoint = (h: Harness, cookie: string): Promise<Response> =>
    fetch(`${h.ingress}/oauth2/session/refresh`, { method: 'POST', headers: { cookie } });
  const skipped = async (h: Harness): Promise<number> =>
    (await h.metrics.refreshes.get()).values.find((v) => v.labels.outcome === 'backoff')?.value ?? 0;

  it('throttling storm: after one 429 no other session or replica calls the token endpoint until Retry-After has passed', async () => {
    const cookies = [await newSession(), await newSession(), await newSession(), await newSession()];
    const originals = await Promise.all(cookies.map((c) => bearerSeen(a, c)));
    for (const o of originals) assert.ok(o);
    clock.advance(HOUR - 9 * MIN); // every session is due for refresh, 9 minutes of validity left

    // Only the first refresh grant is throttled: any later call would succeed, and change the token upstream.
    a.mock.fail({ kind: 'status', status: 429, grant: 'refresh_token', times: 1, retryAfter: 30 });
    const grants = refreshes();
    assert.equal(await bearerSeen(a, cookies[0]!), originals[0], 'throttled: the current token still goes upstream');
    assert.equal(refreshes(), grants + 1, 'one refresh attempt');

    // Every other due session, on this replica and on the other, in turn and at once, and the same session on the
    // other replica (where no back-off of its own is known).
    for (const [i, cookie] of cookies.entries()) {
      assert.equal(await bearerSeen(a, cookie), originals[i], `session ${i} on replica a: current token kept`);
      assert.equal(await bearerSeen(b, cookie), originals[i], `session ${i} on replica b: current token kept`);
    }
    const together = await Promise.all(cookies.flatMap((c) => [bearerSeen(a, c), bearerSeen(b, c)]));
    assert.deepEqual(
      together,
      originals.flatMap((o) => [o, o]),
    );
    clock.advance(20_000); // inside Retry-After: 30
    const kept = await refreshEndpoint(b, cookies[1]!);
    assert.equal(kept.status, 503, 'the refresh endpoint says "try later"');
    const retryAfter = Number(kept.headers.get('retry-after'));
    assert.ok(retryAfter >= 9 && retryAfter <= 10, `Retry-After is the remaining back-off (10 s), got ${retryAfter}`);
    assert.equal(refreshes(), grants + 1, 'exactly one refresh grant during the back-off, whatever the replica');
    assert.ok((await skipped(a)) + (await skipped(b)) > 0, 'skipped refreshes are counted');

    clock.advance(11_000); // Retry-After has passed: refreshes resume, once per session
    for (const [i, cookie] of cookies.entries()) {
      const now = await bearerSeen(i % 2 === 0 ? a : b, cookie);
      assert.ok(now);
      assert.notEqual(now, originals[i], `session ${i} refreshed after the back-off`);
    }
    assert.equal(refreshes(), grants + 1 + cookies.length);
    clock.advance(2 * HOUR); // keep the next test's sessions apart
  });

  it('Retry-After: 0 still backs off the minimum (5 s), for every session and replica', async () => {
    const cookies = [await newSession(), await newSession()];
    const originals = await Promise.all(cookies.map((c) => bearerSeen(a, c)));
    clock.advance(HOUR - 9 * MIN);
    a.mock.fail({ kind: 'status', status: 429, grant: 'refresh_token', times: 1, retryAfter: 0 });
    const grants = refreshes();
    assert.equal(await bearerSeen(a, cookies[0]!), originals[0]);
    clock.advance(4_000);
    assert.equal(await bearerSeen(a, cookies[0]!), originals[0], 'not retried at once');
    assert.equal(await bearerSeen(b, cookies[0]!), originals[0]);
    assert.equal(await bearerSeen(b, cookies[1]!), originals[1]);
    const kept = await refreshEndpoint(a, cookies[1]!);
    assert.equal(kept.status, 503);
    assert.equal(kept.headers.get('retry-after'), '1', 'one second of the minimum is left');
    assert.equal(refreshes(), grants + 1, 'no grant before the minimum back-off has passed');

    clock.advance(1_500);
    assert.notEqual(await bearerSeen(b, cookies[1]!), originals[1], 'refreshed once the minimum has passed');
    assert.equal(refreshes(), grants + 2);
    clock.advance(2 * HOUR);
  });

  it("a lock waiter on another replica takes the holder's throttled outcome instead of retrying at once", async () => {
    const cookie = await newSession();
    const original = await bearerSeen(a, cookie);
    clock.advance(HOUR - 9 * MIN);
    // Both replicas at once: whichever holds the lock is throttled; the other, waiting or after it, must not retry.
    a.mock.fail({ kind: 'status', status: 429, grant: 'refresh_token', times: 1, retryAfter: 30 });
    const grants = refreshes();
    const both = await Promise.all([bearerSeen(a, cookie), bearerSeen(b, cookie), bearerSeen(b, cookie)]);
    assert.deepEqual(both, [original, original, original]);
    assert.equal(refreshes(), grants + 1, 'one grant: the waiter did not retry after the holder was throttled');
    clock.advance(2 * HOUR);
  });

  it('a login callback during the back-off does not redeem its code (503), whichever replica was throttled; after it, logins work', async () => {
    const cookie = await newSession();
    clock.advance(HOUR - 9 * MIN);
    a.mock.fail({ kind: 'status', status: 429, grant: 'refresh_token', times: 1, retryAfter: 30 });
    await bearerSeen(b, cookie); // replica b's throttled refresh starts the client's back-off, in the store
    const codes = a.mock.grantCount('authorization_code');
    for (let i = 0; i < 2; i++) {
      const { callback } = await login(a, new TestClient());
      assert.equal(callback.status, 503, 'the page says: try again in a moment');
    }
    assert.equal(a.mock.grantCount('authorization_code'), codes, 'no code was redeemed while Entra throttles us');
    clock.advance(31_000);
    const { callback } = await login(a, new TestClient());
    assert.equal(callback.status, 302, 'after the back-off a login completes');
    assert.equal(a.mock.grantCount('authorization_code'), codes + 1);
    clock.advance(2 * HOUR);
  });
});

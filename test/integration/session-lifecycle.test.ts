import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness, sharedWith } from '../support/harness.js';
import { loggedIn, login } from '../support/mock-login.js';
import { TestClient } from '../support/http-client.js';
import { TestClock } from '../support/clock.js';
import { freePort } from '../support/free-port.js';

const HOUR = 3_600_000;

async function bearerSeen(h: Harness, cookie: string, path = '/echo'): Promise<string | undefined> {
  const res = await fetch(`${h.ingress}${path}`, { headers: { cookie } });
  const body = (await res.json()) as { headers: Record<string, string> };
  return body.headers.authorization;
}

describe('refresh: single-flight across two replicas', () => {
  const clock = new TestClock();
  let a: Harness;
  let b: Harness;
  before(async () => {
    a = await startHarness({ now: clock.now });
    b = await startHarness({
      now: clock.now,
      shared: sharedWith(a),
    });
  });
  after(async () => {
    await b.close();
    await a.close();
  });

  it('200 parallel requests over two instances at token expiry → one refresh grant, one new token for all', async () => {
    const { cookie } = await loggedIn(a);
    const oldToken = await bearerSeen(b, cookie);
    assert.match(oldToken ?? '', /^Bearer /, 'the session works on the other replica');

    clock.advance(HOUR + 1000);
    const grantsBefore = a.mock.grantCount('refresh_token');
    const seenBefore = a.upstream.seen.length;
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        fetch(`${(i % 2 ? a : b).ingress}/echo/storm-${i}`, { headers: { cookie } }),
      ),
    );
    assert.deepEqual(new Set(results.map((r) => r.status)), new Set([200]));
    assert.equal(a.mock.grantCount('refresh_token') - grantsBefore, 1, 'exactly one refresh grant');
    const storm = a.upstream.seen.slice(seenBefore).filter((s) => s.url.startsWith('/echo/storm-'));
    assert.equal(storm.length, 200);
    const tokens = new Set(storm.map((s) => s.headers.authorization));
    assert.equal(tokens.size, 1, 'all 200 carried the same token');
    assert.notEqual([...tokens][0], oldToken, 'and it is the new one');
  });
});

describe('refresh outcomes', () => {
  const clock = new TestClock();
  let h: Harness;
  before(async () => {
    h = await startHarness({ now: clock.now });
  });
  after(() => h.close());

  it('refreshes before proxying when the token expires within the margin, keeping the rotated refresh token', async () => {
    const { cookie } = await loggedIn(h);
    const first = await bearerSeen(h, cookie);
    clock.advance(HOUR - 20_000); // 20 s left: inside the 30 s margin
    const second = await bearerSeen(h, cookie);
    assert.notEqual(second, first);
    clock.advance(HOUR - 20_000);
    const third = await bearerSeen(h, cookie);
    assert.notEqual(third, second, 'the rotated refresh token works for the next refresh');
  });

  it('IdP down during refresh: the still-valid token is kept, and used again later', async () => {
    const { cookie } = await loggedIn(h);
    const before = await bearerSeen(h, cookie);
    clock.advance(HOUR - 20_000);
    h.mock.fail({ kind: 'status', status: 503, grant: 'refresh_token', times: 1 });
    const during = await bearerSeen(h, cookie);
    assert.equal(during, before, 'current token kept while valid');
    h.mock.clearFailures();
    clock.advance(10_000); // past the retry back-off
    const afterwards = await bearerSeen(h, cookie);
    assert.notEqual(afterwards, before, 'refreshed once the IdP is back');
  });

  it('invalid_grant (revoked refresh token): the session ends and the user is logged out', async () => {
    const { cookie } = await loggedIn(h);
    h.mock.revokeRefreshTokens();
    clock.advance(HOUR);
    assert.equal(await bearerSeen(h, cookie), undefined);
    const meta = await fetch(`${h.ingress}/oauth2/session`, { headers: { cookie } });
    assert.equal(meta.status, 401, 'the session is gone');
  });
});

describe('session endpoints', () => {
  const clock = new TestClock();
  let h: Harness;
  let forwardAuth: string;
  before(async () => {
    const port = await freePort();
    forwardAuth = `http://127.0.0.1:${port}/oauth2/session/forwardauth`;
    h = await startHarness({
      now: clock.now,
      env: { VESTIBULE_FORWARD_AUTH: 'true', VESTIBULE_FORWARD_AUTH_BIND_ADDRESS: `127.0.0.1:${port}` },
    });
  });
  after(() => h.close());

  it('GET /oauth2/session answers Wonderwall-shaped metadata and never refreshes; 401 without a session', async () => {
    assert.equal((await fetch(`${h.ingress}/oauth2/session`)).status, 401);
    const { cookie } = await loggedIn(h);
    const grants = h.mock.grantCount('refresh_token');
    clock.advance(HOUR);
    const res = await fetch(`${h.ingress}/oauth2/session`, { headers: { cookie } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control')?.includes('no-store'), true);
    const body = (await res.json()) as { session: Record<string, unknown>; tokens: Record<string, unknown> };
    assert.deepEqual(Object.keys(body.session).sort(), [
      'active',
      'created_at',
      'ends_at',
      'ends_in_seconds',
      'timeout_at',
      'timeout_in_seconds',
    ]);
    assert.deepEqual(Object.keys(body.tokens).sort(), [
      'expire_at',
      'expire_in_seconds',
      'next_auto_refresh_in_seconds',
      'refresh_cooldown',
      'refresh_cooldown_seconds',
      'refreshed_at',
    ]);
    assert.equal(body.session.active, true);
    assert.equal(body.session.timeout_at, '0001-01-01T00:00:00Z');
    assert.equal(body.session.timeout_in_seconds, -1);
    assert.equal(body.tokens.expire_in_seconds, 0);
    assert.ok(Math.abs((body.session.ends_in_seconds as number) - 9 * 3600) <= 2);
    assert.equal(h.mock.grantCount('refresh_token'), grants, 'no refresh');
  });

  it('POST /oauth2/session/refresh refreshes now, then holds the cooldown', async () => {
    const { cookie } = await loggedIn(h);
    clock.advance(61_000);
    const grants = h.mock.grantCount('refresh_token');
    const r1 = await fetch(`${h.ingress}/oauth2/session/refresh`, { method: 'POST', headers: { cookie } });
    assert.equal(r1.status, 200);
    const m1 = (await r1.json()) as { tokens: { refresh_cooldown: boolean; refresh_cooldown_seconds: number } };
    assert.equal(m1.tokens.refresh_cooldown, true);
    assert.ok(m1.tokens.refresh_cooldown_seconds >= 58 && m1.tokens.refresh_cooldown_seconds <= 60);
    const r2 = await fetch(`${h.ingress}/oauth2/session/refresh`, { headers: { cookie } });
    assert.equal(r2.status, 200);
    assert.equal(h.mock.grantCount('refresh_token') - grants, 1, 'the second call is inside the cooldown');
    assert.equal((await fetch(`${h.ingress}/oauth2/session/refresh`, { method: 'POST' })).status, 401);
  });

  it('forward-auth: 204 with the bearer token on its listener (refreshing when due), 401 without a session', async () => {
    // The ingress subrequest's shape: the cookie, no browser Fetch Metadata (node's fetch sends Sec-Fetch-Mode).
    const ingress = new TestClient();
    assert.equal((await ingress.get(forwardAuth)).status, 401);
    const browser = new TestClient();
    await login(h, browser);
    const cookie = `vestibule.session=${browser.cookie('vestibule.session') ?? ''}`;
    const r = await ingress.get(forwardAuth, { cookie });
    assert.equal(r.status, 204);
    const first = r.headers.get('authorization');
    assert.match(first ?? '', /^Bearer ey/);
    clock.advance(HOUR);
    const r2 = await ingress.get(forwardAuth, { cookie });
    assert.equal(r2.status, 204);
    assert.notEqual(r2.headers.get('authorization'), first);
  });
});

describe('inactivity timeout', () => {
  const clock = new TestClock();
  let h: Harness;
  before(async () => {
    h = await startHarness({ now: clock.now, env: { VESTIBULE_SESSION_INACTIVITY_TIMEOUT: '30m' } });
  });
  after(() => h.close());

  it('activity extends the session; 30 idle minutes make it inactive (200 active:false, no token)', async () => {
    const { cookie } = await loggedIn(h);
    for (let i = 0; i < 4; i++) {
      clock.advance(20 * 60_000); // 80 minutes in all, never 30 idle
      assert.match((await bearerSeen(h, cookie)) ?? '', /^Bearer /, `still active after ${(i + 1) * 20} min`);
      await new Promise((r) => setTimeout(r, 50)); // the deadline is pushed out off the request path
    }
    clock.advance(31 * 60_000);
    assert.equal(await bearerSeen(h, cookie), undefined);
    const meta = await fetch(`${h.ingress}/oauth2/session`, { headers: { cookie } });
    assert.equal(meta.status, 200);
    const body = (await meta.json()) as { session: { active: boolean; timeout_in_seconds: number } };
    assert.equal(body.session.active, false);
    assert.equal(body.session.timeout_in_seconds, 0);
    assert.equal(
      (await fetch(`${h.ingress}/oauth2/session/refresh`, { method: 'POST', headers: { cookie } })).status,
      401,
    );
  });
});

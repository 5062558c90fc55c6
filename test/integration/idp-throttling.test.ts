import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startHarness, type Harness } from '../support/harness.js';
import { login } from '../support/mock-login.js';
import { TestClient } from '../support/http-client.js';
import { TestClock } from '../support/clock.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

/**
 * Issue 15: Entra ID answers throttling with 429 (sometimes 408 or 5xx) and a Retry-After. A throttling episode
 * must not end anyone's session: the still-valid token is kept, the IdP is not asked again before Retry-After,
 * and the refresh happens once it recovers. Only a grant that is gone (invalid_grant) ends a session.
 */
describe('IdP throttling during refresh (issue 15)', () => {
  const clock = new TestClock();
  let h: Harness;
  before(async () => {
    // A 10 min margin: a session is due for refresh while its token stays valid for minutes of throttling.
    h = await startHarness({ now: clock.now, env: { VESTIBULE_REFRESH_MARGIN: '10m' } });
  });
  after(() => h.close());
  beforeEach(() => h.mock.clearFailures());

  async function newSession(): Promise<string> {
    const browser = new TestClient();
    await login(h, browser);
    return `vestibule.session=${browser.cookie('vestibule.session') ?? ''}`;
  }
  async function bearerSeen(cookie: string): Promise<string | undefined> {
    const res = await fetch(`${h.ingress}/echo`, { headers: { cookie } });
    const body = (await res.json()) as { headers: Record<string, string> };
    return body.headers.authorization;
  }
  const sessionStatus = async (cookie: string): Promise<number> =>
    (await fetch(`${h.ingress}/oauth2/session`, { headers: { cookie } })).status;
  const refreshes = (): number => h.mock.grantCount('refresh_token');
  const refreshEndpoint = (cookie: string): Promise<Response> =>
    fetch(`${h.ingress}/oauth2/session/refresh`, { method: 'POST', headers: { cookie } });

  it('throttling attack: 429s with Retry-After keep the session and its token, and are honoured before retrying', async () => {
    const cookie = await newSession();
    const original = await bearerSeen(cookie);
    assert.ok(original);
    clock.advance(HOUR - 9 * MIN); // due for refresh, 9 minutes of validity left
    h.mock.fail({ kind: 'status', status: 429, grant: 'refresh_token', times: 1, retryAfter: 120 });
    h.mock.fail({
      kind: 'status',
      status: 429,
      grant: 'refresh_token',
      times: 1,
      retryAfter: new Date(Date.now() + 90_000).toUTCString(),
    });

    let grants = refreshes();
    assert.equal(await bearerSeen(cookie), original, 'throttled: the current token still goes upstream');
    assert.equal(refreshes(), grants + 1, 'one refresh attempt');
    assert.equal(await sessionStatus(cookie), 200, 'the session was not destroyed');

    clock.advance(60_000); // past the default back-off, still inside Retry-After: 120
    assert.equal(await bearerSeen(cookie), original);
    assert.equal(await bearerSeen(cookie), original);
    const kept = await refreshEndpoint(cookie);
    assert.equal(kept.status, 503, 'the refresh endpoint says "try later", not 401');
    assert.equal(refreshes(), grants + 1, 'not retried before Retry-After (proxy or refresh endpoint)');

    clock.advance(61_000); // Retry-After has passed: try again, and be throttled again (HTTP-date form, 90 s)
    grants = refreshes();
    assert.equal(await bearerSeen(cookie), original);
    assert.equal(refreshes(), grants + 1, 'retried once Retry-After had passed');
    clock.advance(60_000);
    assert.equal(await bearerSeen(cookie), original);
    assert.equal((await refreshEndpoint(cookie)).status, 503);
    assert.equal(refreshes(), grants + 1, 'the HTTP-date Retry-After is honoured too');

    clock.advance(35_000); // the IdP has recovered
    const refreshed = await bearerSeen(cookie);
    assert.ok(refreshed);
    assert.notEqual(refreshed, original, 'refreshed once the IdP recovered');
    assert.equal(refreshes(), grants + 2);
    assert.equal(await sessionStatus(cookie), 200);
  });

  it('408, 5xx and temporarily_unavailable keep the session too', async () => {
    for (const status of [408, 500, 502, 503, 504]) {
      const cookie = await newSession();
      const original = await bearerSeen(cookie);
      clock.advance(HOUR - 9 * MIN);
      h.mock.fail({ kind: 'status', status, grant: 'refresh_token', times: 1, retryAfter: 30 });
      assert.equal(await bearerSeen(cookie), original, `HTTP ${status}: token kept`);
      assert.equal(await sessionStatus(cookie), 200, `HTTP ${status}: session kept`);
      assert.equal((await refreshEndpoint(cookie)).status, 503, `HTTP ${status}: refresh endpoint 503`);
      clock.advance(31_000);
      assert.notEqual(await bearerSeen(cookie), original, `HTTP ${status}: refreshed after Retry-After`);
      clock.advance(2 * HOUR); // every session here is past its token: keep the next ones apart
    }
  });

  it('interaction_required keeps the token while it is valid, without asking the IdP again until it expires', async () => {
    const cookie = await newSession();
    const original = await bearerSeen(cookie);
    clock.advance(HOUR - 9 * MIN);
    h.mock.fail({ kind: 'interaction_required', grant: 'refresh_token' });
    const grants = refreshes();
    assert.equal(await bearerSeen(cookie), original);
    assert.equal(await sessionStatus(cookie), 200, 'not destroyed silently');
    clock.advance(5 * MIN);
    assert.equal(await bearerSeen(cookie), original);
    assert.equal(refreshes(), grants + 1, 'the refresh token cannot work without the user: not retried meanwhile');
    clock.advance(5 * MIN); // the token has expired: the user must sign in (interactively) again
    assert.equal(await bearerSeen(cookie), undefined);
  });

  it('invalid_grant still ends the session', async () => {
    const cookie = await newSession();
    clock.advance(HOUR - 9 * MIN);
    h.mock.fail({ kind: 'invalid_grant', grant: 'refresh_token' });
    assert.equal(await bearerSeen(cookie), undefined);
    assert.equal(await sessionStatus(cookie), 401, 'the session is gone');
  });
});

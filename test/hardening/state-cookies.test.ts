import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { TestClock } from '../support/clock.js';
import { startHarness, type Harness } from '../support/harness.js';
import { NAVIGATION, TestClient } from '../support/http-client.js';
import { login, startLogin, submitSignIn, untilCallback } from '../support/mock-login.js';
import { assertAnonymous, throughProxy } from '../support/proxied-view.js';

// vestibule's own short-lived cookies attacked: the login cookie replayed after use, moved to another login
// or past its lifetime; garbage logout and login-loop cookies; a session cookie past the session's end; and
// the session endpoints never handing a token to the browser.

const SESSION = 'vestibule.session';
const HOUR = 3_600_000;

describe('login, logout and counter cookies', () => {
  let h: Harness;
  let valid: string;
  before(async () => {
    h = await startHarness({ logLevel: 'warn', env: { VESTIBULE_FORWARD_AUTH: 'true' } });
    const browser = new TestClient();
    await login(h, browser);
    valid = browser.cookie(SESSION) ?? '';
  });
  after(() => h.close());

  it('a login cookie replayed after use, with a fresh code for the same state: 401, no session, no grant', async () => {
    const b = new TestClient();
    const authorize = await startLogin(h, b);
    const loginCookie = b.cookies().find((c) => c.name.startsWith('vestibule.login.'));
    assert.ok(loginCookie);
    const first = await b.get(await submitSignIn(b, authorize), NAVIGATION);
    assert.equal(first.status, 302);
    const grants = h.mock.grantCount('authorization_code');
    const attacker = new TestClient();
    attacker.setCookie(h.origin, loginCookie.name, loginCookie.value, loginCookie.path);
    const replay = await attacker.get(await submitSignIn(attacker, authorize), NAVIGATION);
    assert.equal(replay.status, 401);
    assert.match(replay.body, /already used/);
    assert.equal(attacker.cookie(SESSION), undefined);
    assert.equal(h.mock.grantCount('authorization_code'), grants, 'the fresh code was never redeemed');
  });

  it("a login cookie moved under another login's name does not open (the name is sealed in): 401", async () => {
    const b = new TestClient();
    await b.get(`${h.ingress}/oauth2/login`, NAVIGATION);
    const first = b.cookies().find((c) => c.name.startsWith('vestibule.login.'));
    const authorize = await startLogin(h, b);
    const secondName = `vestibule.login.${(authorize.searchParams.get('state') ?? '').slice(0, 16)}`;
    assert.ok(first && first.name !== secondName);
    b.setCookie(h.origin, secondName, first.value, first.path);
    const callback = await b.get(await submitSignIn(b, authorize), NAVIGATION);
    assert.equal(callback.status, 401);
    assert.equal(b.cookie(SESSION), undefined);
  });

  it('logout cookie garbage, huge or from another flow: the callback lands on the ingress root', async () => {
    const other = new TestClient();
    const out = await other.get(`${h.ingress}/oauth2/logout?redirect=/elsewhere`, NAVIGATION);
    assert.equal(out.status, 302);
    const sealed = other.cookie('vestibule.logout') ?? '';
    for (const value of ['garbage', '', 'A'.repeat(4097), randomBytes(90).toString('base64url'), sealed]) {
      const res = await new TestClient().get(`${h.ingress}/oauth2/logout/callback?state=not-the-state`, {
        ...NAVIGATION,
        cookie: `vestibule.logout=${value}`,
      });
      assert.equal(res.status, 302, value.slice(0, 20));
      assert.equal(res.location, `${h.origin}/`);
    }
  });

  it('a tampered login-loop counter never breaks login: 302 or 429, and a well-formed counter back', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const value of [
      'NaN.NaN',
      '99999999999999999999.1',
      '-1.-1',
      '1e308.0',
      '',
      '..',
      '.',
      'x'.repeat(3000),
      `1000.${now}`,
      `5.${now + 999}`,
      `1.${now}.a;b.${'k'.repeat(16)}.%2e%2e`,
    ]) {
      const res = await new TestClient().get(`${h.ingress}/oauth2/login`, {
        ...NAVIGATION,
        cookie: `vestibule.logins=${value}`,
      });
      assert.ok(res.status === 302 || res.status === 429, `${value.slice(0, 20)}: ${res.status}`);
      const counter = res.headers.getSetCookie().find((c) => c.startsWith('vestibule.logins='));
      // count.windowStart, then the state keys of the login cookies this browser holds (at most three).
      assert.match(counter ?? '', /^vestibule\.logins=\d+\.\d+(\.[A-Za-z0-9_-]{16}){0,3};/);
    }
  });

  it('session metadata and forward-auth answers never hand a token to the browser (GO-2024-2965)', async () => {
    const cookie = `${SESSION}=${valid}`;
    const token = (await throughProxy(h, cookie)).authorization?.slice('Bearer '.length) ?? '';
    assert.ok(token.length > 100);
    const meta = await new TestClient().get(`${h.ingress}/oauth2/session`, { cookie });
    assert.equal(meta.status, 200);
    assert.doesNotMatch(meta.body, /eyJ/);
    assert.equal(meta.body.includes(token), false);
    // forward-auth hands the token to the ingress controller in a header; never in the body.
    const fa = await new TestClient().get(`${h.ingress}/oauth2/session/forwardauth`, { cookie });
    assert.equal(fa.status, 204);
    assert.equal(fa.body, '');
  });
});

describe('cookies that outlived their session', () => {
  const clock = new TestClock();
  let h: Harness;
  before(async () => {
    h = await startHarness({ logLevel: 'warn', now: clock.now, env: { VESTIBULE_FORWARD_AUTH: 'true' } });
  });
  after(() => h.close());

  it('a login cookie older than its 10 minutes: 401 "expired", no session', async () => {
    const b = new TestClient();
    const callbackUrl = await untilCallback(h, b);
    clock.advance(11 * 60_000);
    const callback = await b.get(callbackUrl, NAVIGATION);
    assert.equal(callback.status, 401);
    assert.match(callback.body, /expired/);
    assert.equal(b.cookie(SESSION), undefined);
  });

  it('an expired session (past the 10 h maximum lifetime): no token, and 401 from every session endpoint', async () => {
    const b = new TestClient();
    await login(h, b);
    const cookie = `${SESSION}=${b.cookie(SESSION) ?? ''}`;
    assert.match((await throughProxy(h, cookie)).authorization ?? '', /^Bearer /);
    const grants = h.mock.grantCount('refresh_token');
    clock.advance(10 * HOUR + 60_000);
    assertAnonymous(await throughProxy(h, cookie), 'expired session');
    for (const path of ['/oauth2/session', '/oauth2/session/refresh', '/oauth2/session/forwardauth']) {
      const res = await new TestClient().get(`${h.ingress}${path}`, { cookie });
      assert.equal(res.status, 401, path);
    }
    assert.equal(h.mock.grantCount('refresh_token'), grants, 'an ended session is never refreshed');
  });
});

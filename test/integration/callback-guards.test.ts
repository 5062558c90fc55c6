import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness } from '../support/harness.js';
import { NAVIGATION, TestClient } from '../support/http-client.js';
import { login, untilCallback } from '../support/mock-login.js';

describe('callback guards', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('missing state: 400 error page with a correlation id and a retry link, no session', async () => {
    const browser = new TestClient();
    const cb = await untilCallback(h, browser);
    cb.searchParams.delete('state');
    const res = await browser.get(cb, { ...NAVIGATION, 'x-request-id': 'corr-123' });
    assert.equal(res.status, 400);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    assert.match(res.body, /Correlation ID: corr-123/);
    assert.match(res.body, /href="\/oauth2\/login/);
    assert.doesNotMatch(res.body, /at .*\.ts:\d+/, 'no stack trace');
    assert.equal(browser.cookie('vestibule.session'), undefined);
  });

  it('tampered state (no login cookie of that name): 401, no session', async () => {
    const browser = new TestClient();
    const cb = await untilCallback(h, browser);
    cb.searchParams.set('state', `${cb.searchParams.get('state') ?? ''}x`.replace(/^./, 'Z'));
    const res = await browser.get(cb, NAVIGATION);
    assert.equal(res.status, 401);
    assert.equal(browser.cookie('vestibule.session'), undefined);
  });

  it('state that matches the cookie name but not its content: 401', async () => {
    const browser = new TestClient();
    const cb = await untilCallback(h, browser);
    const state = cb.searchParams.get('state') ?? '';
    cb.searchParams.set('state', state.slice(0, 16) + 'A'.repeat(state.length - 16));
    const res = await browser.get(cb, NAVIGATION);
    assert.equal(res.status, 401);
    assert.equal(browser.cookie('vestibule.session'), undefined);
  });

  it('callback without the login cookie (other browser): 401', async () => {
    const browser = new TestClient();
    const cb = await untilCallback(h, browser);
    const res = await new TestClient().get(cb, NAVIGATION);
    assert.equal(res.status, 401);
    assert.match(res.body, /another browser|expired|already/);
  });

  it('replayed callback (same cookie, same state and code): refused, and the code is never redeemed twice', async () => {
    const browser = new TestClient();
    const cb = await untilCallback(h, browser);
    const loginCookies = browser.cookies().filter((c) => c.name.startsWith('vestibule.login.'));
    assert.equal(loginCookies.length, 1);
    const first = await browser.get(cb, NAVIGATION);
    assert.equal(first.status, 302);
    const grantsAfterFirst = h.mock.grantCount('authorization_code');
    // An attacker who captured both the callback URL and the login cookie replays them.
    const attacker = new TestClient();
    const lc = loginCookies[0]!;
    attacker.setCookie(h.origin, lc.name, lc.value, lc.path);
    const replay = await attacker.get(cb, NAVIGATION);
    assert.equal(replay.status, 401);
    assert.match(replay.body, /already used/);
    assert.equal(attacker.cookie('vestibule.session'), undefined);
    assert.equal(h.mock.grantCount('authorization_code'), grantsAfterFirst, 'replay never reached the IdP');
  });

  it('a code redeemed elsewhere (IdP says invalid_grant): 502 error page, no session', async () => {
    const browser = new TestClient();
    const cb = await untilCallback(h, browser);
    h.mock.fail({ kind: 'invalid_grant', grant: 'authorization_code', times: 1 });
    const res = await browser.get(cb, NAVIGATION);
    assert.equal(res.status, 502);
    assert.match(res.body, /could not be completed/);
    assert.equal(browser.cookie('vestibule.session'), undefined);
  });

  it('error from the IdP with HTML in it: escaped code only, no injection', async () => {
    const browser = new TestClient();
    const cb = await untilCallback(h, browser);
    cb.searchParams.delete('code');
    cb.searchParams.set('error', '<script>alert(1)</script>');
    cb.searchParams.set('error_description', '<img src=x onerror=alert(1)>');
    const res = await browser.get(cb, NAVIGATION);
    assert.equal(res.status, 502);
    assert.doesNotMatch(res.body, /<script>|<img/);
    assert.match(res.body, /unknown_error/);
  });

  it('two logins started in parallel tabs both complete', async () => {
    const browser = new TestClient();
    const tab1 = await untilCallback(h, browser, { redirect: '/tab1' });
    const tab2 = await untilCallback(h, browser, { redirect: '/tab2' });
    const r2 = await browser.get(tab2, NAVIGATION);
    const r1 = await browser.get(tab1, NAVIGATION);
    assert.equal(r2.status, 302);
    assert.equal(r2.location, `${h.origin}/tab2`);
    assert.equal(r1.status, 302);
    assert.equal(r1.location, `${h.origin}/tab1`);
    assert.ok(browser.cookie('vestibule.session'));
  });

  it('each login gets a new session id (no fixation) and the old session ends', async () => {
    const browser = new TestClient();
    await login(h, browser);
    const first = browser.cookie('vestibule.session');
    await login(h, browser);
    const second = browser.cookie('vestibule.session');
    assert.ok(first && second && first !== second);
    const stale = new TestClient();
    stale.setCookie(h.origin, 'vestibule.session', first);
    const res = await stale.get(`${h.ingress}/echo`);
    assert.equal((JSON.parse(res.body) as { headers: Record<string, string> }).headers.authorization, undefined);
  });

  it('fetch/XHR to the login endpoint gets 401 JSON instead of a redirect the browser cannot follow', async () => {
    const res = await new TestClient().get(`${h.ingress}/oauth2/login`, {
      'sec-fetch-mode': 'cors',
      'sec-fetch-dest': 'empty',
    });
    assert.equal(res.status, 401);
    assert.equal((JSON.parse(res.body) as { error: string }).error, 'unauthenticated');
  });

  it('unknown /oauth2 paths are ours (404), never proxied', async () => {
    const before = h.upstream.seen.length;
    const res = await new TestClient().get(`${h.ingress}/oauth2/unknown`);
    assert.equal(res.status, 404);
    assert.equal(h.upstream.seen.length, before);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness } from '../support/harness.js';
import { login } from '../support/mock-login.js';
import { NAVIGATION } from '../support/http-client.js';
import { TestClient } from '../support/http-client.js';
import { TestClock } from '../support/clock.js';

// Issue 15, item 8: a page that opens /oauth2/login?redirect=<2 KB> again and again gave the browser a ~3 KB
// login cookie each time, all sent to the callback, until its Cookie header passed the server's 32 KB header
// limit: every real login then failed with 431 for the cookies' ten minutes. Now a browser keeps at most three
// login cookies (starting a fourth clears the oldest) and a redirect over 1 KB lands on the ingress root.

describe('login-cookie bomb', () => {
  let h: Harness;
  const clock = new TestClock();
  before(async () => {
    h = await startHarness({ logLevel: 'warn', now: clock.now });
  });
  after(() => h.close());

  it('login-cookie bomb: 20 logins with 2 KB redirects, then a normal login completes and nothing got 431', async () => {
    const browser = new TestClient();
    const long = `/${'a'.repeat(2047)}`;
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      // Past the login-loop limit (8 a minute) the way a patient page would: wait a minute now and then.
      if (i > 0 && i % 7 === 0) clock.advance(61_000);
      const res = await browser.get(`${h.ingress}/oauth2/login?redirect=${encodeURIComponent(long)}`, NAVIGATION);
      statuses.push(res.status);
    }
    assert.deepEqual(
      statuses.filter((s) => s !== 302),
      [],
      'every login started',
    );
    const loginCookies = browser.cookies().filter((c) => c.name.startsWith('vestibule.login.'));
    assert.ok(loginCookies.length <= 3, `${loginCookies.length} login cookies kept`);
    const callbackCookie = browser.cookieHeader(new URL(`${h.ingress}/oauth2/callback`)) ?? '';
    assert.ok(callbackCookie.length < 8 * 1024, `callback Cookie header is ${callbackCookie.length} bytes`);

    clock.advance(61_000);
    const { callback } = await login(h, browser, { redirect: '/echo/after' });
    assert.equal(callback.status, 302, `callback answered ${callback.status}`);
    assert.equal(callback.location, `${h.ingress}/echo/after`);
    const me = await browser.get(`${h.ingress}/echo/me`);
    assert.equal(me.status, 200);
    assert.ok((JSON.parse(me.body) as { headers: Record<string, string> }).headers.authorization);
  });

  it('login-cookie bomb: a redirect over 1 KB lands on the ingress root, one of 1 KB is kept', async () => {
    clock.advance(61_000);
    const browser = new TestClient();
    const kept = `/${'k'.repeat(1023)}`;
    const { callback } = await login(h, browser, { redirect: kept });
    assert.equal(callback.location, `${h.ingress}${kept}`);
    const { callback: long } = await login(h, new TestClient(), { redirect: `/${'x'.repeat(1024)}` });
    assert.equal(long.status, 302);
    assert.equal(long.location, `${h.ingress}/`);
  });
});

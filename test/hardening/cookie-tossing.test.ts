import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness } from '../support/harness.js';
import { login } from '../support/mock-login.js';
import { NAVIGATION } from '../support/http-client.js';
import { TestClient } from '../support/http-client.js';
import { throughProxy } from '../support/proxied-view.js';

// Issue 15, item 1: a sibling subdomain, or another app on the host at a longer path, plants a genuine session
// cookie of its own (e.g. the attacker's) next to the victim's. Before, the first value that passed the MAC and
// existed in the store won, so the victim's requests could carry the attacker's token. Now two different valid
// values are no session at all. (The https names, __Host-/__Secure-, are in src/cookies/our-cookies.test.ts and
// in the browser: test/e2e/cookie-tossing-browser.test.ts; this harness serves http://127.0.0.1.)

const SESSION = 'vestibule.session';

describe('cookie tossing over HTTP', () => {
  let h: Harness;
  let victim: string;
  let attacker: string;
  before(async () => {
    h = await startHarness({ logLevel: 'warn' });
    const v = new TestClient();
    await login(h, v, { username: 'ada' });
    victim = v.cookie(SESSION) ?? '';
    const a = new TestClient();
    await login(h, a, { username: 'mallory' });
    attacker = a.cookie(SESSION) ?? '';
    assert.equal(victim.length, 64);
    assert.equal(attacker.length, 64);
  });
  after(() => h.close());

  it('cookie tossing: two valid session cookies (either order) forward no token and are no session', async () => {
    assert.ok((await throughProxy(h, `${SESSION}=${victim}`)).authorization, 'the victim alone has a session');
    for (const cookie of [
      `${SESSION}=${attacker}; ${SESSION}=${victim}`,
      `${SESSION}=${victim}; ${SESSION}=${attacker}`,
      `${SESSION}=garbage; ${SESSION}=${attacker}; a=1; ${SESSION}=${victim}`,
    ]) {
      // Twice: the second time the in-process cache holds both sessions.
      for (let i = 0; i < 2; i++) {
        const seen = await throughProxy(h, cookie);
        assert.equal(seen.status, 200);
        assert.equal(seen.authorization, undefined, `${cookie}: no token forwarded`);
      }
      const session = await new TestClient().get(`${h.ingress}/oauth2/session`, { cookie });
      assert.equal(session.status, 401, cookie);
    }
  });

  it('cookie tossing: the same value sent twice (two paths) is still the one session', async () => {
    const seen = await throughProxy(h, `${SESSION}=${victim}; ${SESSION}=${victim}`);
    assert.ok(seen.authorization?.startsWith('Bearer '));
  });

  it('cookie tossing: a login while two sessions are planted ends neither and gives this browser its own', async () => {
    const browser = new TestClient();
    browser.setCookie(h.origin, SESSION, attacker, '/');
    browser.setCookie(h.origin, SESSION, victim, '/oauth2'); // both are sent to the callback
    const { callback } = await login(h, browser, { username: 'grace' });
    assert.equal(callback.status, 302);
    // Neither planted session was taken for this browser's and ended: both still work on their own.
    assert.ok((await throughProxy(h, `${SESSION}=${attacker}`)).authorization, 'attacker');
    assert.ok((await throughProxy(h, `${SESSION}=${victim}`)).authorization, 'victim');
  });

  it('cookie tossing: the https names of our cookies never reach the app', async () => {
    const seen = await throughProxy(
      h,
      `app=1; __Host-${SESSION}=${victim}; __Secure-vestibule.login.x=y; __secure-${SESSION}=z`,
    );
    assert.equal(seen.cookie, 'app=1');
    // …and they are not read on an http ingress: only the plain names count there.
    assert.equal(seen.authorization, undefined);
    const res = await new TestClient().get(`${h.ingress}/oauth2/session`, {
      ...NAVIGATION,
      cookie: `__Host-${SESSION}=${victim}`,
    });
    assert.equal(res.status, 401);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Keyring } from '../../src/crypto/keyring.js';
import { openLoginState, sealLoginState } from '../../src/login/login-state.js';
import { openLogoutState, sealLogoutState } from '../../src/login/logout-state.js';
import { startHarness, type Harness } from '../support/harness.js';
import { NAVIGATION, TestClient, type Response } from '../support/http-client.js';
import { login, submitSignIn } from '../support/mock-login.js';
import { openRedirectPayloads, safeRedirects } from '../support/redirect-fixtures.js';
import { mapLimit } from '../support/map-limit.js';

// The whole open-redirect corpus (test/fixtures/open-redirects.jsonl) through the real HTTP stack: query
// parsing, the login and logout routes, their sealed cookies, the mock IdP's redirects and both callbacks.
// src/login/redirect-target.test.ts checks the validator alone; this checks that every route applies it.

const PAYLOADS = openRedirectPayloads();
const CONCURRENCY = 12;

/** Every `step`-th payload: the full login flow costs an authorization code and a token grant each. */
function sample(step: number): string[] {
  return PAYLOADS.filter((_, i) => i % step === 0);
}

/** The cookie pair `name=value` a response set, by name prefix. */
function setCookie(res: Response, prefix: string): { name: string; value: string } {
  const line = res.headers.getSetCookie().find((c) => c.startsWith(prefix));
  assert.ok(line, `no ${prefix} cookie set (status ${res.status})`);
  const pair = line.slice(0, line.indexOf(';'));
  const eq = pair.indexOf('=');
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1) };
}

/** Follows logout → IdP end-session → logout callback; returns the final redirect. */
async function logoutFlow(h: Harness, browser: TestClient, start: Response): Promise<Response> {
  assert.equal(start.status, 302, start.body);
  const endSession = start.location ?? '';
  assert.ok(endSession.startsWith(h.mock.url), `logout goes to the IdP, not ${endSession}`);
  const back = await browser.get(endSession, NAVIGATION);
  assert.equal(back.status, 302, back.body);
  const callback = back.location ?? '';
  assert.ok(callback.startsWith(`${h.ingress}/oauth2/logout/callback?`), callback);
  return browser.get(callback, NAVIGATION);
}

for (const ingressPath of ['/', '/app']) {
  describe(`open-redirect corpus over HTTP, ingress path ${ingressPath}`, () => {
    let h: Harness;
    let keyring: Keyring;
    let root: string;
    const enc = encodeURIComponent;
    before(async () => {
      h = await startHarness({ ingressPath: ingressPath === '/' ? '' : ingressPath, logLevel: 'warn' });
      keyring = new Keyring(Buffer.from(h.encryptionKey, 'base64'));
      root = new URL(ingressPath, h.origin).href;
    });
    after(() => h.close());

    it(`/oauth2/login?redirect= for all ${PAYLOADS.length} payloads: 302 to the IdP, sealed target = ingress root`, async () => {
      assert.ok(PAYLOADS.length >= 1000, `corpus has only ${PAYLOADS.length} payloads`);
      const leaked = (
        await mapLimit(PAYLOADS, CONCURRENCY, async (payload) => {
          const res = await new TestClient().get(`${h.ingress}/oauth2/login?redirect=${enc(payload)}`, NAVIGATION);
          assert.equal(res.status, 302, `${JSON.stringify(payload)}: ${res.body}`);
          assert.ok(res.location?.startsWith(`${h.mock.issuer.replace('/v2.0', '')}/oauth2/v2.0/authorize?`));
          const { name, value } = setCookie(res, 'vestibule.login.');
          const saved = openLoginState(keyring, name, value, Date.now());
          assert.ok(saved, 'the login cookie opens with the deployment key');
          return saved.redirect === ingressPath ? undefined : { payload, sealed: saved.redirect };
        })
      ).filter((x) => x !== undefined);
      assert.deepEqual(leaked, []);
    });

    /** The target sealed into the login cookie for a raw (not re-encoded) query string. */
    async function sealedFor(query: string): Promise<string> {
      const res = await new TestClient().get(`${h.ingress}/oauth2/login?${query}`, NAVIGATION);
      assert.equal(res.status, 302, `${query}: ${res.body}`);
      const { name, value } = setCookie(res, 'vestibule.login.');
      return openLoginState(keyring, name, value, Date.now())?.redirect ?? 'unopenable';
    }

    it('payloads put raw into the query (decoded once by the server) still seal an on-site target', async () => {
      // Only payloads a client can send unencoded: visible ASCII, and no '#' or '&' that would end the value.
      const raw = PAYLOADS.filter((p) => /^[\x21-\x7e]+$/.test(p) && !/[#&]/.test(p));
      assert.ok(raw.length > 300, `only ${raw.length} raw-sendable payloads`);
      const offSite = (
        await mapLimit(raw, CONCURRENCY, async (payload) => {
          const sealed = await sealedFor(`redirect=${payload}`);
          const u = new URL(sealed, h.origin);
          const under = ingressPath === '/' || u.pathname === ingressPath || u.pathname.startsWith(`${ingressPath}/`);
          return u.origin === h.origin && under && !sealed.startsWith('//') ? undefined : { payload, sealed };
        })
      ).filter((x) => x !== undefined);
      assert.deepEqual(offSite, []);
    });

    it('a duplicated redirect parameter (one safe, one hostile, either order) is ambiguous: the root', async () => {
      const safe = ingressPath === '/' ? '/reports' : `${ingressPath}/reports`;
      for (const query of [
        `redirect=${enc(safe)}&redirect=${enc('//evil.example')}`,
        `redirect=${enc('//evil.example')}&redirect=${enc(safe)}`,
        `redirect=${enc(safe)}&redirect=${enc(safe)}`,
      ]) {
        assert.equal(await sealedFor(query), ingressPath, query);
      }
      assert.equal(await sealedFor(`redirect=${enc(safe)}`), safe, 'control: a single safe target is kept');
    });

    it(`/oauth2/logout?redirect= → IdP → /oauth2/logout/callback for all payloads lands on ${ingressPath}`, async () => {
      const leaked = (
        await mapLimit(PAYLOADS, CONCURRENCY, async (payload) => {
          const browser = new TestClient();
          const start = await browser.get(`${h.ingress}/oauth2/logout?redirect=${enc(payload)}`, NAVIGATION);
          const final = await logoutFlow(h, browser, start);
          assert.equal(final.status, 302);
          return final.location === root ? undefined : { payload, location: final.location };
        })
      ).filter((x) => x !== undefined);
      assert.deepEqual(leaked, []);
    });

    it('a logout cookie sealed with every 5th payload (validated again at the callback) lands on the root', async () => {
      // Simulates a cookie written by a build with a weaker validator: the callback must not trust it.
      const leaked = (
        await mapLimit(sample(5), CONCURRENCY, async (payload) => {
          const browser = new TestClient();
          const start = await browser.get(`${h.ingress}/oauth2/logout`, NAVIGATION);
          const cookie = setCookie(start, 'vestibule.logout=');
          const state = new URL(start.location ?? '').searchParams.get('state') ?? '';
          const opened = openLogoutState(keyring, 'vestibule.logout', cookie.value, Date.now());
          assert.equal(opened?.state, state);
          const path = `${ingressPath === '/' ? '' : ingressPath}/oauth2/logout/callback`;
          browser.setCookie(
            h.origin,
            'vestibule.logout',
            sealLogoutState(keyring, 'vestibule.logout', { state, redirect: payload }, Date.now()),
            path,
          );
          const final = await logoutFlow(h, browser, start);
          return final.location === root ? undefined : { payload, location: final.location };
        })
      ).filter((x) => x !== undefined);
      assert.deepEqual(leaked, []);
    });

    it('the full login flow with every 10th payload as redirect lands on the root', async () => {
      const leaked = (
        await mapLimit(sample(10), 4, async (payload) => {
          const { callback } = await login(h, new TestClient(), { redirect: payload });
          assert.equal(callback.status, 302, callback.body);
          return callback.location === root ? undefined : { payload, location: callback.location };
        })
      ).filter((x) => x !== undefined);
      assert.deepEqual(leaked, []);
    });

    it('a login cookie sealed with every 10th payload (validated again at the callback) lands on the root', async () => {
      const leaked = (
        await mapLimit(sample(10), 4, async (payload) => {
          const browser = new TestClient();
          const start = await browser.get(`${h.ingress}/oauth2/login`, NAVIGATION);
          const { name, value } = setCookie(start, 'vestibule.login.');
          const saved = openLoginState(keyring, name, value, Date.now());
          assert.ok(saved);
          const path = `${ingressPath === '/' ? '' : ingressPath}/oauth2/callback`;
          browser.setCookie(
            h.origin,
            name,
            sealLoginState(keyring, name, { ...saved, redirect: payload }, Date.now()),
            path,
          );
          const callback = await browser.get(await submitSignIn(browser, new URL(start.location ?? '')), NAVIGATION);
          assert.equal(callback.status, 302, callback.body);
          assert.ok(browser.cookie('vestibule.session'), 'the login itself succeeds');
          return callback.location === root ? undefined : { payload, location: callback.location };
        })
      ).filter((x) => x !== undefined);
      assert.deepEqual(leaked, []);
    });

    it('control: legitimate targets of safe-redirects.jsonl survive the logout round trip unchanged', async () => {
      const safe = safeRedirects().filter((s) => s.ingressPath === ingressPath);
      assert.ok(safe.length >= 10);
      const changed = (
        await mapLimit(safe, CONCURRENCY, async ({ target }) => {
          const browser = new TestClient();
          const start = await browser.get(`${h.ingress}/oauth2/logout?redirect=${enc(target)}`, NAVIGATION);
          const final = await logoutFlow(h, browser, start);
          return final.location === new URL(target, h.origin).href ? undefined : { target, location: final.location };
        })
      ).filter((x) => x !== undefined);
      assert.deepEqual(changed, []);
    });
  });
}

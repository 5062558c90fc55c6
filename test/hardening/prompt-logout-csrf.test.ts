import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness } from '../support/harness.js';
import { login } from '../support/mock-login.js';
import { NAVIGATION } from '../support/http-client.js';
import { TestClient } from '../support/http-client.js';

// Issue 15, item 12c: GET /oauth2/login?prompt=login ended the current session at once, so any page could log
// the user out with a link. Now only a same-origin (or typed) navigation ends it; a cross-site or same-site one
// starts the forced login and leaves the session alone until the new login replaces it at the callback.

async function hasToken(h: Harness, browser: TestClient): Promise<boolean> {
  const res = await browser.get(`${h.ingress}/echo/me`);
  return (JSON.parse(res.body) as { headers: Record<string, string> }).headers.authorization !== undefined;
}

describe('prompt=login and cross-site navigations', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ logLevel: 'warn' });
  });
  after(() => h.close());

  // '': an empty Sec-Fetch-Site vouches for no site, so it is no more our own than a missing one.
  for (const site of ['cross-site', 'same-site', 'Cross-Site', '', undefined]) {
    const label = site === undefined ? 'header-less' : site === '' ? 'empty Sec-Fetch-Site' : site;
    it(`logout CSRF: prompt=login from a ${label} navigation keeps the session and still forces the login`, async () => {
      const browser = new TestClient();
      await login(h, browser);
      assert.equal(await hasToken(h, browser), true);
      for (const prompt of ['login', 'select_account']) {
        const res = await browser.get(`${h.ingress}/oauth2/login?prompt=${prompt}`, {
          ...NAVIGATION,
          ...(site === undefined ? {} : { 'sec-fetch-site': site }),
        });
        assert.equal(res.status, 302);
        assert.equal(new URL(res.location ?? '').searchParams.get('prompt'), prompt);
        assert.ok(!(res.headers.get('set-cookie') ?? '').includes('vestibule.session='), 'session cookie untouched');
      }
      assert.equal(await hasToken(h, browser), true, 'the session survived');
    });
  }

  for (const site of ['same-origin', 'none']) {
    it(`prompt=login from a ${site} navigation ends the current session first`, async () => {
      const browser = new TestClient();
      await login(h, browser);
      const cookie = `vestibule.session=${browser.cookie('vestibule.session') ?? ''}`;
      const res = await browser.get(`${h.ingress}/oauth2/login?prompt=login`, {
        ...NAVIGATION,
        'sec-fetch-site': site,
      });
      assert.equal(res.status, 302);
      assert.equal(await hasToken(h, browser), false);
      const replayed = await new TestClient().get(`${h.ingress}/echo/me`, { cookie });
      assert.equal((JSON.parse(replayed.body) as { headers: Record<string, string> }).headers.authorization, undefined);
    });
  }
});

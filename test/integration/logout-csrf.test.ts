import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness } from '../support/harness.js';
import { login } from '../support/mock-login.js';
import { NAVIGATION } from '../support/http-client.js';
import { TestClient } from '../support/http-client.js';

const SESSION = 'vestibule.session';
const CROSS_SITE_NAVIGATION = { ...NAVIGATION, 'sec-fetch-site': 'cross-site', 'sec-fetch-user': '?1' };
const SAME_SITE_NAVIGATION = { ...NAVIGATION, 'sec-fetch-site': 'same-site', 'sec-fetch-user': '?1' };
const SAME_ORIGIN_FETCH = { 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty', 'sec-fetch-site': 'same-origin' };

async function loggedIn(h: Harness): Promise<string> {
  const b = new TestClient();
  await login(h, b);
  return `${SESSION}=${b.cookie(SESSION) ?? ''}`;
}

/** The bearer token the app receives for this cookie, or undefined (no session). */
async function bearer(h: Harness, cookie: string): Promise<string | undefined> {
  const res = await new TestClient().get(`${h.ingress}/echo`, { cookie });
  return (JSON.parse(res.body) as { headers: Record<string, string | undefined> }).headers.authorization;
}

describe('logout CSRF', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ logLevel: 'warn' });
  });
  after(() => h.close());

  it('cross-site logout CSRF: a link or redirect from another site to /oauth2/logout/local gets 403 and the session stays', async () => {
    const cookie = await loggedIn(h);
    const gets: Record<string, string>[] = [
      CROSS_SITE_NAVIGATION,
      SAME_SITE_NAVIGATION,
      { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' },
      // No Fetch Metadata on a GET: an older browser following a link cannot be told from another site's.
      NAVIGATION,
      // An empty Sec-Fetch-Site says no more than none at all.
      { ...NAVIGATION, 'sec-fetch-site': '' },
      // A duplicated header (node joins it) is never our own site.
      { ...NAVIGATION, 'sec-fetch-site': 'cross-site, same-origin' },
    ];
    for (const headers of gets) {
      const res = await new TestClient().get(`${h.ingress}/oauth2/logout/local`, { ...headers, cookie });
      assert.equal(res.status, 403, JSON.stringify(headers));
      assert.equal((JSON.parse(res.body) as { error: string }).error, 'forbidden');
      assert.equal(res.headers.get('set-cookie'), null, 'the cookie is not cleared');
      assert.match((await bearer(h, cookie)) ?? '', /^Bearer ey/, JSON.stringify(headers));
    }
  });

  it('cross-site logout CSRF by form post: a foreign Origin or cross-site Fetch Metadata gets 403 and the session stays', async () => {
    const cookie = await loggedIn(h);
    const posts: Record<string, string>[] = [
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { origin: h.origin, 'sec-fetch-site': 'same-site' },
      { 'sec-fetch-site': 'cross-site' },
    ];
    for (const headers of posts) {
      const res = await new TestClient().request(`${h.ingress}/oauth2/logout/local`, {
        method: 'POST',
        headers: { ...headers, cookie },
      });
      assert.equal(res.status, 403, JSON.stringify(headers));
      assert.match((await bearer(h, cookie)) ?? '', /^Bearer ey/, JSON.stringify(headers));
    }
  });

  it("the page's own fetch, a typed URL and a same-origin or server-side POST still end the session", async () => {
    const inits: { method: string; headers: Record<string, string> }[] = [
      { method: 'GET', headers: SAME_ORIGIN_FETCH },
      { method: 'GET', headers: { ...NAVIGATION, 'sec-fetch-site': 'none' } },
      { method: 'POST', headers: { ...SAME_ORIGIN_FETCH, origin: h.origin } },
      { method: 'POST', headers: {} },
      // A POST with an empty Sec-Fetch-Site is judged as one without: no foreign Origin, so a server's.
      { method: 'POST', headers: { 'sec-fetch-site': '' } },
      { method: 'GET', headers: { ...SAME_ORIGIN_FETCH, 'sec-fetch-site': 'Same-Origin' } },
    ];
    for (const init of inits) {
      const cookie = await loggedIn(h);
      const res = await new TestClient().request(`${h.ingress}/oauth2/logout/local`, {
        method: init.method,
        headers: { ...init.headers, cookie },
      });
      assert.equal(res.status, 204, JSON.stringify(init));
      assert.equal(await bearer(h, cookie), undefined, JSON.stringify(init));
    }
  });

  it('cross-site logout CSRF on /oauth2/logout: another site gets a confirmation page, and the session stays', async () => {
    const cookie = await loggedIn(h);
    // A Sec-Fetch-Site no browser sends (two values, or one it does not know) is not taken as our own site either.
    const garbled = [
      { ...NAVIGATION, 'sec-fetch-site': 'same-origin, cross-site' },
      { ...NAVIGATION, 'sec-fetch-site': 'sideways' },
    ];
    for (const headers of [CROSS_SITE_NAVIGATION, SAME_SITE_NAVIGATION, ...garbled]) {
      const res = await new TestClient().get(`${h.ingress}/oauth2/logout?redirect=/bye`, { ...headers, cookie });
      assert.equal(res.status, 403, JSON.stringify(headers));
      assert.match(res.body, /Log out\?/);
      assert.match(
        res.body,
        /href="\/oauth2\/logout\?redirect=%2Fbye"/,
        'the button repeats the logout from our origin',
      );
      assert.equal(res.headers.get('set-cookie'), null);
      assert.match((await bearer(h, cookie)) ?? '', /^Bearer ey/);
    }
    // The button (a same-origin navigation) logs out.
    const res = await new TestClient().get(`${h.ingress}/oauth2/logout?redirect=/bye`, {
      ...NAVIGATION,
      'sec-fetch-site': 'same-origin',
      cookie,
    });
    assert.equal(res.status, 302);
    assert.equal(await bearer(h, cookie), undefined);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness } from '../support/harness.js';
import { login } from '../support/mock-login.js';
import { NAVIGATION, TestClient } from '../support/http-client.js';

const SESSION = 'vestibule.session';
const CROSS_SITE_NAVIGATION = { ...NAVIGATION, 'sec-fetch-site': 'cross-site', 'sec-fetch-user': '?1' };

/** The bearer token the app receives for this browser, or undefined (no session). */
async function bearer(h: Harness, b: TestClient): Promise<string | undefined> {
  const res = await b.get(`${h.ingress}/echo`);
  return (JSON.parse(res.body) as { headers: Record<string, string | undefined> }).headers.authorization;
}

describe('logout CSRF through the front-channel endpoint (found in review)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ logLevel: 'warn' });
  });
  after(() => h.close());

  it('logout CSRF: a cross-site link to /oauth2/logout/frontchannel (no sid) must not log the browser out', async () => {
    const b = new TestClient();
    await login(h, b);
    assert.match((await bearer(h, b)) ?? '', /^Bearer ey/, 'logged in');
    // Another site's link: a top-level cross-site navigation, so the SameSite=Lax cookie rides and the
    // browser applies the answer's Set-Cookie. /oauth2/logout/local answers this with 403 and keeps the cookie.
    const res = await b.get(`${h.ingress}/oauth2/logout/frontchannel`, CROSS_SITE_NAVIGATION);
    assert.equal(res.headers.get('set-cookie'), null, 'the session cookie must not be cleared by another site');
    assert.ok(b.cookie(SESSION), 'the browser still holds its session cookie');
    assert.match((await bearer(h, b)) ?? '', /^Bearer ey/, 'still logged in');
  });
});

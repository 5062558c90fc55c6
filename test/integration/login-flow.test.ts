import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { startHarness, type Harness } from '../support/harness.js';
import { NAVIGATION, TestClient } from '../support/http-client.js';
import { login } from '../support/mock-login.js';

describe('login → proxied request → logout', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('logs in, forwards a bearer token that verifies against the IdP keys, and logs out everywhere', async () => {
    const browser = new TestClient();
    const { callback, authorizeUrl } = await login(h, browser, { redirect: '/echo/after-login?x=1' });

    // The authorization request carries PKCE S256, state, nonce and the ingress' redirect URI.
    assert.equal(authorizeUrl.searchParams.get('code_challenge_method'), 'S256');
    assert.match(authorizeUrl.searchParams.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.ok((authorizeUrl.searchParams.get('state') ?? '').length >= 22);
    assert.ok((authorizeUrl.searchParams.get('nonce') ?? '').length >= 22);
    assert.equal(authorizeUrl.searchParams.get('redirect_uri'), `${h.ingress}/oauth2/callback`);
    assert.equal(authorizeUrl.searchParams.get('scope'), `openid offline_access api://${h.clientId}/.default`);

    assert.equal(callback.status, 302);
    assert.equal(callback.location, `${h.origin}/echo/after-login?x=1`);
    const setCookie = callback.headers.getSetCookie().find((c) => c.startsWith('vestibule.session='));
    assert.ok(setCookie, 'session cookie set');
    assert.match(setCookie, /HttpOnly/i);
    assert.match(setCookie, /SameSite=Lax/i);
    assert.match(setCookie, /Path=\//);

    const res = await browser.get(`${h.ingress}/echo/after-login?x=1`, {
      authorization: 'Bearer forged-by-the-client',
      cookie: `${browser.cookieHeader(new URL(h.ingress)) ?? ''}; app_pref=dark`,
    });
    assert.equal(res.status, 200);
    const seen = JSON.parse(res.body) as { url: string; headers: Record<string, string> };
    assert.equal(seen.url, '/echo/after-login?x=1');
    const bearer = /^Bearer (.+)$/.exec(seen.headers.authorization ?? '')?.[1];
    assert.ok(bearer && bearer !== 'forged-by-the-client', 'client Authorization overwritten');
    const jwks = createRemoteJWKSet(new URL(`${h.mock.issuer.replace('/v2.0', '')}/discovery/v2.0/keys`));
    const { payload } = await jwtVerify(bearer, jwks, { issuer: h.mock.issuer, audience: h.clientId });
    assert.equal(payload.preferred_username !== undefined, true);
    assert.equal(seen.headers.cookie, 'app_pref=dark', 'our cookies never reach the app, others do');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.headers['x-forwarded-host'], new URL(h.ingress).host);
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');

    // Logout: the session is deleted in Redis and the browser is sent to the IdP's end-session endpoint.
    const keysBefore = await sessionKeys(h);
    assert.equal(keysBefore.length, 1);
    const out = await browser.get(`${h.ingress}/oauth2/logout?redirect=/bye`, NAVIGATION);
    assert.equal(out.status, 302);
    const endSession = new URL(out.location ?? '');
    assert.equal(endSession.origin + endSession.pathname, `${h.mock.issuer.replace('/v2.0', '')}/oauth2/v2.0/logout`);
    assert.equal(endSession.searchParams.get('post_logout_redirect_uri'), `${h.ingress}/oauth2/logout/callback`);
    assert.ok(endSession.searchParams.get('id_token_hint'));
    assert.deepEqual(await sessionKeys(h), []);
    assert.equal(browser.cookie('vestibule.session'), undefined);

    const back = await browser.get(endSession.href, NAVIGATION);
    assert.equal(back.status, 302);
    assert.equal(h.mock.endSessionCalls().length, 1);
    const final = await browser.get(back.location ?? '', NAVIGATION);
    assert.equal(final.status, 302);
    assert.equal(final.location, `${h.origin}/bye`);

    const anon = await browser.get(`${h.ingress}/echo/anon`);
    const anonSeen = JSON.parse(anon.body) as { headers: Record<string, string> };
    assert.equal(anonSeen.headers.authorization, undefined, 'no token after logout');
  });
});

async function sessionKeys(h: Harness): Promise<string[]> {
  const { Redis } = await import('ioredis');
  const r = new Redis(h.redis.url);
  try {
    return await r.keys(`vestibule:${h.clientId}:s:*`);
  } finally {
    r.disconnect();
  }
}

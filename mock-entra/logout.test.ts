import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SECRET_APP, loginForTokens, startFixture, WEB } from './test-fixtures.js';
import type { Fixture } from './test-fixtures.js';

describe('end-session endpoint', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture();
  });
  after(() => f.mock.close());

  function logoutUrl(params: Record<string, string>): string {
    return `${f.mock.url}/${f.mock.tenantId}/oauth2/v2.0/logout?${new URLSearchParams(params).toString()}`;
  }

  it('records the call and redirects to the registered post-logout URI with state', async () => {
    const login = await loginForTokens(f);
    const idToken = String(login.body.id_token);
    const before = f.mock.endSessionCalls().length;
    const res = await fetch(
      logoutUrl({
        id_token_hint: idToken,
        post_logout_redirect_uri: WEB.postLogoutRedirectUri,
        state: 'bye',
        logout_hint: 'kari',
      }),
      { redirect: 'manual' },
    );
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), `${WEB.postLogoutRedirectUri}?state=bye`);
    const calls = f.mock.endSessionCalls();
    assert.equal(calls.length, before + 1);
    assert.deepEqual(calls.at(-1), {
      idTokenHint: idToken,
      postLogoutRedirectUri: WEB.postLogoutRedirectUri,
      state: 'bye',
      logoutHint: 'kari',
    });
  });

  it('shows the signed-out page for an unregistered post-logout URI', async () => {
    const res = await fetch(logoutUrl({ post_logout_redirect_uri: 'https://evil.example/' }), { redirect: 'manual' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('location'), null);
    assert.match(await res.text(), /You have been signed out/);
  });

  it("does not redirect to another client's URI when the hint names a client", async () => {
    const login = await loginForTokens(f);
    const res = await fetch(
      logoutUrl({ id_token_hint: String(login.body.id_token), post_logout_redirect_uri: SECRET_APP.redirectUri }),
      { redirect: 'manual' },
    );
    assert.equal(res.status, 200);
  });

  it('accepts any registered post-logout URI without a hint, and POST', async () => {
    const res = await fetch(`${f.mock.url}/${f.mock.tenantId}/oauth2/v2.0/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ post_logout_redirect_uri: WEB.postLogoutRedirectUri }),
    });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), WEB.postLogoutRedirectUri);
    assert.deepEqual(f.mock.endSessionCalls().at(-1), { postLogoutRedirectUri: WEB.postLogoutRedirectUri });
  });

  it('refuses a forged id_token_hint', async () => {
    const res = await fetch(
      logoutUrl({ id_token_hint: 'e30.e30.sig', post_logout_redirect_uri: WEB.postLogoutRedirectUri }),
      {
        redirect: 'manual',
      },
    );
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('location'), null);
  });
});

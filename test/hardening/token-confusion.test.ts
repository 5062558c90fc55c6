import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness } from '../support/harness.js';
import { NAVIGATION, TestClient } from '../support/http-client.js';
import { login } from '../support/mock-login.js';
import { taggedGet } from '../support/tagged-get.js';

// Review issue 15, item 5: token-type confusion on protected paths. Every token here is signed by the (mock)
// Entra ID with our issuer and our client id as audience; only access tokens may pass a protected path.

describe('token-type confusion on a protected path, end to end', () => {
  let h: Harness;
  let idToken: string;
  before(async () => {
    h = await startHarness({ logLevel: 'warn', env: { VESTIBULE_REQUIRE_TOKEN_PATHS: '/api/**' } });
    // A real login, then the ID token vestibule itself puts in the logout URL as id_token_hint.
    const browser = new TestClient();
    await login(h, browser);
    const logout = await browser.get(`${h.ingress}/oauth2/logout`, NAVIGATION);
    assert.equal(logout.status, 302);
    idToken = new URL(logout.location ?? '').searchParams.get('id_token_hint') ?? '';
    assert.match(idToken, /^ey[\w-]+\.ey[\w-]+\.[\w-]+$/);
  });
  after(() => h.close());

  const bearer = (token: string): [string, string][] => [['Authorization', `Bearer ${token}`]];
  const claims = (token: string): Record<string, unknown> =>
    JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;

  it('an ID token from a real login, sent as a bearer token, is refused: 401 invalid_token', async () => {
    assert.equal(claims(idToken).aud, h.clientId, 'the ID token has our audience: only its type tells it apart');
    const { status, seen } = await taggedGet(h, '/api/x', bearer(idToken));
    assert.equal(seen !== undefined, false, 'the request reached the app');
    assert.equal(status, 401);
  });

  it('a valid user access token passes: 200 from the app', async () => {
    const token = await h.mock.mintAccessToken({ audience: h.clientId });
    const { status, seen } = await taggedGet(h, '/api/x', bearer(token));
    assert.equal(status, 200);
    assert.equal(seen?.headers.authorization, `Bearer ${token}`);
  });

  it('an app-only token passes with roles, and is refused without any role: 401', async () => {
    const withRoles = await h.mock.mintAccessToken({ audience: h.clientId, appClientId: h.clientId });
    assert.deepEqual(claims(withRoles).roles, ['access_as_application']);
    assert.equal((await taggedGet(h, '/api/x', bearer(withRoles))).status, 200);
    // What any service principal in the tenant gets from client credentials when nobody granted it a role.
    const roleless = await h.mock.mintAccessToken({
      audience: h.clientId,
      appClientId: h.clientId,
      extraClaims: { roles: undefined },
    });
    assert.equal(claims(roleless).roles, undefined);
    const { status, seen } = await taggedGet(h, '/api/x', bearer(roleless));
    assert.equal(seen !== undefined, false, 'the request reached the app');
    assert.equal(status, 401);
  });
});

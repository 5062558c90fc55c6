import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT, importJWK } from 'jose';
import { pairwiseSub } from './claims.js';
import { generateClientJwk } from './keys.js';
import { API, decodePart, DOWNSTREAM, postToken, startFixture, webAuth, WEB } from './test-fixtures.js';
import type { Fixture } from './test-fixtures.js';

describe('on-behalf-of grant', () => {
  let f: Fixture;
  let now = Date.UTC(2030, 2, 3, 10, 0, 0);
  before(async () => {
    f = await startFixture({ clock: () => now });
  });
  after(() => f.mock.close());

  async function obo(assertion: string, scope = `api://${DOWNSTREAM.name.split(':').join('.')}/.default`, extra = {}) {
    return postToken(f.mock, {
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      requested_token_use: 'on_behalf_of',
      assertion,
      scope,
      client_id: API.clientId,
      client_secret: API.secret,
      ...extra,
    });
  }

  it('exchanges a user token for the API into one for the downstream API', async () => {
    const user = f.mock.users[1]!;
    const incoming = await f.mock.mintAccessToken({ audience: API.clientId, user, azp: WEB.clientId });
    const res = await obo(incoming);
    assert.equal(res.status, 200);
    assert.equal(res.body.token_type, 'Bearer');
    assert.equal(res.body.scope, 'api://dev-gcp.other.downstream/.default');
    assert.equal(typeof res.body.expires_in, 'number');
    const at = decodePart(res.body.access_token, 1);
    assert.equal(at.aud, DOWNSTREAM.clientId);
    assert.equal(at.azp, API.clientId);
    assert.equal(at.azpacr, '1');
    assert.equal(at.oid, user.oid);
    assert.equal(at.sub, pairwiseSub(user.oid, DOWNSTREAM.clientId));
    assert.equal(at.NAVident, user.navIdent);
    assert.deepEqual(at.groups, user.groups);
    assert.equal(at.preferred_username, user.username);
    assert.equal(at.scp, 'defaultaccess');
    assert.equal('idtyp' in at, false);
    assert.equal(f.mock.grantCount('urn:ietf:params:oauth:grant-type:jwt-bearer'), 1);
  });

  async function refused(assertion: string, error: string, code: number, scope?: string) {
    const res = await obo(assertion, scope);
    assert.equal(res.status, 400);
    assert.equal(res.body.error, error);
    assert.deepEqual(res.body.error_codes, [code]);
  }

  it('refuses a token meant for another app (AADSTS50013)', async () => {
    await refused(await f.mock.mintAccessToken({ audience: WEB.clientId }), 'invalid_grant', 50013);
  });

  it('refuses an expired token (AADSTS500133)', async () => {
    const token = await f.mock.mintAccessToken({ audience: API.clientId, lifetime: 60 });
    now += 61_000;
    await refused(token, 'invalid_grant', 500133);
  });

  it('refuses an app-only token (AADSTS50013)', async () => {
    await refused(
      await f.mock.mintAccessToken({ audience: API.clientId, appClientId: WEB.clientId }),
      'invalid_grant',
      50013,
    );
  });

  it('refuses a token signed by someone else or with another issuer', async () => {
    const { privateJwk } = await generateClientJwk(f.mock.signingKey().kid);
    const payload = decodePart(await f.mock.mintAccessToken({ audience: API.clientId }), 1);
    const forged = await new SignJWT(payload)
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: privateJwk.kid })
      .sign(await importJWK(privateJwk, 'RS256'));
    await refused(forged, 'invalid_grant', 50013);
    const otherIssuer = await f.mock.mintAccessToken({
      audience: API.clientId,
      extraClaims: { iss: 'https://login.microsoftonline.com/other/v2.0' },
    });
    await refused(otherIssuer, 'invalid_grant', 50013);
  });

  it('refuses a target that has not pre-authorized the caller (AADSTS65001)', async () => {
    const token = await f.mock.mintAccessToken({ audience: WEB.clientId });
    const res = await postToken(f.mock, {
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      requested_token_use: 'on_behalf_of',
      assertion: token,
      scope: `api://${DOWNSTREAM.clientId}/.default`,
      ...(await webAuth(f)),
    });
    assert.equal(res.body.error, 'invalid_grant');
    assert.deepEqual(res.body.error_codes, [65001]);
  });

  it('refuses two resources and an unknown resource', async () => {
    const token = await f.mock.mintAccessToken({ audience: API.clientId });
    await refused(
      token,
      'invalid_scope',
      700022,
      `api://${WEB.clientId}/.default api://${DOWNSTREAM.clientId}/.default`,
    );
    await refused(token, 'invalid_resource', 500011, 'api://x.y.z/.default');
  });

  it('requires requested_token_use=on_behalf_of', async () => {
    const token = await f.mock.mintAccessToken({ audience: API.clientId });
    const res = await obo(token, undefined, { requested_token_use: 'something_else' });
    assert.equal(res.body.error, 'invalid_request');
  });
});

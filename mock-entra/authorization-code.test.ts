import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { pairwiseSub } from './claims.js';
import { decodePart, loginForCode, loginForTokens, postToken, startFixture, webAuth, WEB } from './test-fixtures.js';
import type { Fixture } from './test-fixtures.js';

describe('authorization code grant', () => {
  let f: Fixture;
  let now = Date.now();
  before(async () => {
    f = await startFixture({ clock: () => now, accessTokenLifetime: 3000, idTokenLifetime: 1200 });
  });
  after(() => f.mock.close());

  it('issues tokens that verify against the JWKS and carry Entra v2 claims', async () => {
    now = Date.UTC(2030, 0, 1, 12, 0, 0);
    const result = await loginForTokens(f);
    assert.equal(result.status, 200);
    assert.equal(result.headers.get('cache-control'), 'no-store');
    const body = result.body;
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 3000);
    assert.equal(body.ext_expires_in, 3000);
    assert.equal(body.scope, `openid profile offline_access api://${WEB.clientId}/.default`);
    assert.match(String(body.refresh_token), /^1\.A/);

    const jwks = createRemoteJWKSet(new URL(`${f.mock.url}/${f.mock.tenantId}/discovery/v2.0/keys`));
    const verifyAt = { issuer: f.mock.issuer, audience: WEB.clientId, currentDate: new Date(now) };
    const user = f.mock.users[0]!;
    const iat = now / 1000;

    const id = await jwtVerify(String(body.id_token), jwks, verifyAt);
    assert.deepEqual(id.protectedHeader, { alg: 'RS256', typ: 'JWT', kid: f.mock.signingKey().kid });
    assert.equal(id.payload.aud, WEB.clientId);
    assert.equal(id.payload.iat, iat);
    assert.equal(id.payload.nbf, iat);
    assert.equal(id.payload.exp, iat + 1200);
    assert.equal(id.payload.nonce, 'nonce-456');
    assert.equal(id.payload.sub, pairwiseSub(user.oid, WEB.clientId));
    assert.equal(id.payload.oid, user.oid);
    assert.equal(id.payload.tid, f.mock.tenantId);
    assert.equal(id.payload.sid, result.sessionState);
    assert.equal(id.payload.ver, '2.0');
    assert.equal(id.payload.name, user.name);
    assert.equal(id.payload.preferred_username, user.username);
    for (const claim of ['uti', 'aio', 'rh']) assert.equal(typeof id.payload[claim], 'string', claim);
    assert.equal('auth_time' in id.payload, false);

    const at = await jwtVerify(String(body.access_token), jwks, verifyAt);
    assert.equal(at.protectedHeader.kid, f.mock.signingKey().kid);
    assert.equal(at.payload.aud, WEB.clientId);
    assert.equal(at.payload.exp, iat + 3000);
    assert.equal(at.payload.azp, WEB.clientId);
    assert.equal(at.payload.azpacr, '2');
    assert.equal(at.payload.scp, 'defaultaccess');
    assert.equal(at.payload.oid, user.oid);
    assert.equal(at.payload.sub, pairwiseSub(user.oid, WEB.clientId));
    assert.equal(at.payload.NAVident, user.navIdent);
    assert.deepEqual(at.payload.groups, user.groups);
    assert.equal(at.payload.sid, result.sessionState);
    assert.equal(at.payload.ver, '2.0');
    assert.equal('idtyp' in at.payload, false);
    assert.equal('nonce' in at.payload, false);
    assert.notEqual(at.payload.uti, id.payload.uti);
  });

  it('adds auth_time and acr when max_age and a supported acr value were requested', async () => {
    const result = await loginForTokens(f, { max_age: '0', acr_values: 'urn:unknown urn:mock:mfa' });
    const id = decodePart(result.body.id_token, 1);
    assert.equal(id.auth_time, Math.floor(now / 1000));
    assert.equal(id.acr, 'urn:mock:mfa');
  });

  it('returns no refresh token without offline_access', async () => {
    const result = await loginForTokens(f, { scope: `openid api://${WEB.name.split(':').join('.')}/.default` });
    assert.equal(result.status, 200);
    assert.equal('refresh_token' in result.body, false);
    assert.equal(decodePart(result.body.access_token, 1).aud, WEB.clientId);
  });

  it('issues an unverifiable Graph-style token when the login names no resource', async () => {
    const result = await loginForTokens(f, { scope: 'openid profile' });
    assert.equal(result.status, 200);
    const header = decodePart(result.body.access_token, 0);
    const payload = decodePart(result.body.access_token, 1);
    assert.equal(payload.aud, '00000003-0000-0000-c000-000000000000');
    assert.equal(typeof header.nonce, 'string');
    const jwks = createRemoteJWKSet(new URL(`${f.mock.url}/${f.mock.tenantId}/discovery/v2.0/keys`));
    await assert.rejects(jwtVerify(String(result.body.access_token), jwks), {
      code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    });
  });

  async function redeem(
    code: string,
    verifier: string,
    extra: Record<string, string> = {},
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    return postToken(f.mock, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: WEB.redirectUri,
      code_verifier: verifier,
      ...(await webAuth(f)),
      ...extra,
    });
  }

  it('refuses a redeemed code with AADSTS54005', async () => {
    const { code, verifier } = await loginForCode(f.mock);
    assert.equal((await redeem(code, verifier)).status, 200);
    const again = await redeem(code, verifier);
    assert.equal(again.status, 400);
    assert.equal(again.body.error, 'invalid_grant');
    assert.deepEqual(again.body.error_codes, [54005]);
    assert.match(
      String(again.body.error_description),
      /^AADSTS54005: .*\r\nTrace ID: [0-9a-f-]{36}\r\nCorrelation ID: [0-9a-f-]{36}\r\nTimestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/s,
    );
    assert.equal(again.body.trace_id !== undefined && again.body.correlation_id !== undefined, true);
    assert.equal(again.body.error_uri, 'https://login.microsoftonline.com/error?code=54005');
  });

  it('refuses a wrong code_verifier with AADSTS501481', async () => {
    const { code } = await loginForCode(f.mock);
    const res = await redeem(code, 'wrong-verifier-wrong-verifier-wrong-verifier-123');
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid_grant');
    assert.deepEqual(res.body.error_codes, [501481]);
  });

  it('refuses a different redirect_uri with AADSTS50011', async () => {
    const { code, verifier } = await loginForCode(f.mock);
    const res = await redeem(code, verifier, { redirect_uri: 'http://localhost:3000/other' });
    assert.equal(res.body.error, 'invalid_grant');
    assert.deepEqual(res.body.error_codes, [50011]);
  });

  it('refuses a code older than 10 minutes', async () => {
    const { code, verifier } = await loginForCode(f.mock);
    now += 10 * 60 * 1000 + 1000;
    const res = await redeem(code, verifier);
    assert.equal(res.body.error, 'invalid_grant');
    assert.deepEqual(res.body.error_codes, [70008]);
  });

  it("refuses another client's code", async () => {
    const { code, verifier } = await loginForCode(f.mock);
    const res = await postToken(f.mock, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: WEB.redirectUri,
      code_verifier: verifier,
      client_id: '0a1b2c3d-2222-4222-8222-000000000002',
      client_secret: 'secret-app-secret-value',
    });
    assert.equal(res.body.error, 'invalid_grant');
    assert.deepEqual(res.body.error_codes, [70000]);
    assert.equal((await redeem(code, verifier)).status, 200, 'the rightful client can still redeem it');
  });

  it('requires code, redirect_uri and a known grant_type', async () => {
    const missing = await postToken(f.mock, { grant_type: 'authorization_code', ...(await webAuth(f)) });
    assert.equal(missing.body.error, 'invalid_request');
    assert.deepEqual(missing.body.error_codes, [900144]);
    const unknown = await postToken(f.mock, { grant_type: 'password' });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error, 'unsupported_grant_type');
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { decodePart, startFixture, WEB } from './test-fixtures.js';
import type { Fixture } from './test-fixtures.js';

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

describe('discovery and JWKS', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture();
  });
  after(() => f.mock.close());

  it('serves an Entra-shaped discovery document at the v2.0 tenant path', async () => {
    const { status, body, headers } = await getJson(f.mock.wellKnownUrl);
    assert.equal(status, 200);
    assert.equal(headers.get('cache-control'), 'max-age=86400, private');
    const base = `${f.mock.url}/${f.mock.tenantId}`;
    assert.equal(f.mock.issuer, `${base}/v2.0`);
    assert.equal(f.mock.wellKnownUrl, `${base}/v2.0/.well-known/openid-configuration`);
    assert.equal(body.issuer, f.mock.issuer);
    assert.equal(body.authorization_endpoint, `${base}/oauth2/v2.0/authorize`);
    assert.equal(body.token_endpoint, `${base}/oauth2/v2.0/token`);
    assert.equal(body.token_endpoint, f.mock.tokenEndpoint);
    assert.equal(body.jwks_uri, `${base}/discovery/v2.0/keys`);
    assert.equal(body.end_session_endpoint, `${base}/oauth2/v2.0/logout`);
    assert.deepEqual(body.token_endpoint_auth_methods_supported, [
      'client_secret_post',
      'private_key_jwt',
      'client_secret_basic',
    ]);
    assert.deepEqual(body.id_token_signing_alg_values_supported, ['RS256']);
    assert.deepEqual(body.subject_types_supported, ['pairwise']);
    assert.deepEqual(body.response_modes_supported, ['query', 'fragment', 'form_post']);
    assert.deepEqual(body.scopes_supported, ['openid', 'profile', 'email', 'offline_access']);
    assert.ok(Array.isArray(body.claims_supported) && body.claims_supported.includes('nonce'));
    assert.equal(body.frontchannel_logout_supported, true);
    assert.equal(body.http_logout_supported, true);
    assert.deepEqual(body.acr_values_supported, ['urn:mock:mfa', 'urn:mock:pwd']);
    assert.deepEqual(body.ui_locales_supported, ['en', 'nb']);
  });

  it('leaves out what Entra leaves out', async () => {
    const { body } = await getJson(f.mock.wellKnownUrl);
    for (const absent of [
      'code_challenge_methods_supported',
      'authorization_response_iss_parameter_supported',
      'pushed_authorization_request_endpoint',
      'introspection_endpoint',
      'revocation_endpoint',
      'frontchannel_logout_session_supported',
    ]) {
      assert.equal(absent in body, false, absent);
    }
  });

  it('serves the JWKS with Entra members and no private parts', async () => {
    const { status, body } = await getJson(`${f.mock.url}/${f.mock.tenantId}/discovery/v2.0/keys`);
    assert.equal(status, 200);
    const keys = body.keys as Record<string, unknown>[];
    assert.equal(keys.length, 1);
    const key = keys[0]!;
    assert.deepEqual(Object.keys(key).sort(), ['alg', 'e', 'issuer', 'kid', 'kty', 'n', 'use', 'x5t']);
    assert.equal(key.kty, 'RSA');
    assert.equal(key.use, 'sig');
    assert.equal(key.alg, 'RS256');
    assert.equal(key.issuer, f.mock.issuer);
    assert.equal(key.kid, f.mock.signingKey().kid);
    assert.match(key.kid, /^[A-Za-z0-9_-]{27}$/);
    assert.equal(Buffer.from(String(key.n), 'base64url').length, 256);
  });

  it('answers 404 for another tenant', async () => {
    const res = await fetch(`${f.mock.url}/common/v2.0/.well-known/openid-configuration`);
    assert.equal(res.status, 404);
  });
});

describe('signing key rotation', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture();
  });
  after(() => f.mock.close());

  async function jwks(): Promise<{ keys: { kid: string }[] }> {
    const res = await fetch(`${f.mock.url}/${f.mock.tenantId}/discovery/v2.0/keys`);
    return (await res.json()) as { keys: { kid: string }[] };
  }

  it('signs with a new kid after rotation, keeps the old key published, then drops it on request', async () => {
    const oldKid = f.mock.signingKey().kid;
    const oldToken = await f.mock.mintAccessToken({ audience: WEB.clientId });
    assert.equal(decodePart(oldToken, 0).kid, oldKid);

    await f.mock.rotateSigningKey();
    const newKid = f.mock.signingKey().kid;
    assert.notEqual(newKid, oldKid);
    const newToken = await f.mock.mintAccessToken({ audience: WEB.clientId });
    assert.equal(decodePart(newToken, 0).kid, newKid);

    const both = await jwks();
    assert.deepEqual(both.keys.map((k) => k.kid).sort(), [oldKid, newKid].sort());
    const set = createLocalJWKSet(both);
    await jwtVerify(oldToken, set, { issuer: f.mock.issuer, audience: WEB.clientId });
    await jwtVerify(newToken, set, { issuer: f.mock.issuer, audience: WEB.clientId });

    f.mock.removeOldSigningKeys();
    const onlyNew = await jwks();
    assert.deepEqual(
      onlyNew.keys.map((k) => k.kid),
      [newKid],
    );
    const reduced = createLocalJWKSet(onlyNew);
    await assert.rejects(jwtVerify(oldToken, reduced), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
  });

  it('answers 503 from the JWKS while jwks_down lasts', async () => {
    const url = `${f.mock.url}/${f.mock.tenantId}/discovery/v2.0/keys`;
    f.mock.fail({ kind: 'jwks_down', times: 1 });
    assert.equal((await fetch(url)).status, 503);
    assert.equal((await fetch(url)).status, 200);
    f.mock.fail({ kind: 'jwks_down' });
    assert.equal((await fetch(url)).status, 503);
    assert.equal((await fetch(url)).status, 503);
    f.mock.clearFailures();
    assert.equal((await fetch(url)).status, 200);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { servicePrincipalOid } from './claims.js';
import { API, decodePart, DOWNSTREAM, postToken, startFixture, webAuth, WEB } from './test-fixtures.js';
import type { Fixture } from './test-fixtures.js';

describe('client credentials grant', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture({ accessTokenLifetime: 3599 });
  });
  after(() => f.mock.close());

  async function cc(scope: string) {
    return postToken(f.mock, { grant_type: 'client_credentials', scope, ...(await webAuth(f)) });
  }

  it('issues an app token for a pre-authorized caller', async () => {
    const res = await cc(`api://${API.clientId}/.default`);
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.body).sort(), ['access_token', 'expires_in', 'ext_expires_in', 'token_type']);
    assert.equal(res.body.expires_in, 3599);
    const jwks = createRemoteJWKSet(new URL(`${f.mock.url}/${f.mock.tenantId}/discovery/v2.0/keys`));
    const { payload } = await jwtVerify(String(res.body.access_token), jwks, {
      issuer: f.mock.issuer,
      audience: API.clientId,
    });
    assert.equal(payload.idtyp, 'app');
    assert.deepEqual(payload.roles, ['access_as_application']);
    assert.equal(payload.azp, WEB.clientId);
    assert.equal(payload.azp_name, WEB.name);
    assert.equal(payload.azpacr, '2');
    assert.equal(payload.oid, servicePrincipalOid(WEB.clientId));
    assert.equal(payload.sub, payload.oid);
    assert.equal(payload.tid, f.mock.tenantId);
    assert.equal(payload.ver, '2.0');
    assert.equal('scp' in payload, false);
    assert.equal('NAVident' in payload, false);
  });

  it('resolves api://cluster.namespace.app and the bare client id to the same audience', async () => {
    for (const scope of [`api://dev-gcp.team.api/.default`, `${API.clientId}/.default`]) {
      const res = await cc(scope);
      assert.equal(res.status, 200, scope);
      assert.equal(decodePart(res.body.access_token, 1).aud, API.clientId);
    }
  });

  const refusals: [string, string, string, number][] = [
    ['not pre-authorized', `api://${DOWNSTREAM.clientId}/.default`, 'invalid_grant', 501051],
    ['unknown resource', 'api://dev-gcp.nobody.nothing/.default', 'invalid_resource', 500011],
    ['two resources', `api://${API.clientId}/.default api://${DOWNSTREAM.clientId}/.default`, 'invalid_scope', 700022],
    [
      'two scopes of one resource',
      `api://${API.clientId}/.default api://${API.clientId}/.default`,
      'invalid_scope',
      70011,
    ],
    ['a scope without /.default', `api://${API.clientId}/defaultaccess`, 'invalid_scope', 1002012],
    ['an OIDC scope', `openid api://${API.clientId}/.default`, 'invalid_scope', 1002012],
  ];
  for (const [name, scope, error, code] of refusals) {
    it(`refuses ${name}`, async () => {
      const res = await cc(scope);
      assert.equal(res.status, 400);
      assert.equal(res.body.error, error);
      assert.deepEqual(res.body.error_codes, [code]);
    });
  }

  it('requires scope', async () => {
    const res = await postToken(f.mock, { grant_type: 'client_credentials', ...(await webAuth(f)) });
    assert.deepEqual([res.body.error, res.body.error_codes], ['invalid_request', [900144]]);
  });
});

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { importJWK, SignJWT, type JWTPayload } from 'jose';
import { CLIENT_ASSERTION_TYPE } from './client-auth.js';
import { federatedClaimsProblem, MAX_FEDERATED_LIFETIME, TOKEN_EXCHANGE_AUDIENCE } from './federated-credentials.js';
import { generateClientJwk } from './keys.js';
import { startMockEntra, type JsonWebKey, type MockEntra } from './server.js';
import { postToken, API } from './test-fixtures.js';

const CLUSTER = 'https://kubernetes.default.svc.cluster.local';
const SUBJECT = 'system:serviceaccount:team:app';
const APP = '0a1b2c3d-5555-4555-8555-000000000005';
const NOW = 1_800_000_000;
const credentials = [{ issuer: CLUSTER, subject: SUBJECT }];
const valid: JWTPayload = {
  iss: CLUSTER,
  sub: SUBJECT,
  aud: [TOKEN_EXCHANGE_AUDIENCE],
  iat: NOW - 10,
  exp: NOW + 3590,
};

describe('federatedClaimsProblem()', () => {
  const cases: [string, JWTPayload, number | undefined][] = [
    ['a matching projected token', valid, undefined],
    ['aud as a string', { ...valid, aud: TOKEN_EXCHANGE_AUDIENCE }, undefined],
    ['another issuer', { ...valid, iss: 'https://oidc.prod-aks.azure.com/x/' }, 700211],
    ['another service account', { ...valid, sub: 'system:serviceaccount:team:other' }, 700213],
    ['another audience', { ...valid, aud: ['https://kubernetes.default.svc'] }, 700212],
    ['no exp', { ...valid, exp: undefined }, 700024],
    ['expired (beyond the skew)', { ...valid, exp: NOW - 61 }, 700024],
    ['issued in the future', { ...valid, iat: NOW + 120, exp: NOW + 3720 }, 700024],
    ['longer than a day', { ...valid, exp: NOW - 10 + MAX_FEDERATED_LIFETIME + 1 }, 700024],
  ];
  for (const [name, payload, code] of cases) {
    it(`${name} → ${code ?? 'accepted'}`, () => {
      assert.equal(federatedClaimsProblem(payload, credentials, NOW)?.code, code);
    });
  }
  it('a custom audience list replaces the default', () => {
    const custom = [{ issuer: CLUSTER, subject: SUBJECT, audiences: ['api://custom'] }];
    assert.equal(federatedClaimsProblem(valid, custom, NOW)?.code, 700212);
    assert.equal(federatedClaimsProblem({ ...valid, aud: ['api://custom'] }, custom, NOW), undefined);
  });
});

describe('token endpoint: federated client assertions (workload identity)', () => {
  let mock: MockEntra;
  let clusterKey: JsonWebKey & { kid: string };
  let strangerKey: JsonWebKey & { kid: string };

  before(async () => {
    const [cluster, stranger] = await Promise.all([generateClientJwk(), generateClientJwk()]);
    clusterKey = cluster.privateJwk;
    strangerKey = stranger.privateJwk;
    mock = await startMockEntra({
      clients: [
        { clientId: APP, name: 'dev-aks:team:app', federatedCredentials: credentials },
        { clientId: API.clientId, name: API.name, preAuthorizedClientIds: [APP] },
      ],
      federatedIssuers: [
        { issuer: CLUSTER, jwks: { keys: [cluster.publicJwk] } },
        { issuer: 'https://stranger.example', jwks: { keys: [stranger.publicJwk] } },
      ],
    });
  });
  after(() => mock.close());

  async function projected(key: JsonWebKey & { kid: string }, claims: JWTPayload = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ ...valid, iat: now, nbf: now, exp: now + 3600, jti: randomUUID(), ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: key.kid })
      .sign(await importJWK(key, 'RS256'));
  }

  const cc = (assertion: string) =>
    postToken(mock, {
      grant_type: 'client_credentials',
      scope: `api://${API.clientId}/.default`,
      client_id: APP,
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: assertion,
    });

  it('a projected token of the trusted cluster authenticates the app, and may be sent again (no jti replay)', async () => {
    const token = await projected(clusterKey);
    for (let i = 0; i < 2; i++) {
      const res = await cc(token);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const claims = JSON.parse(Buffer.from(String(res.body.access_token).split('.')[1]!, 'base64url').toString()) as {
        azp: string;
        azpacr: string;
      };
      assert.equal(claims.azp, APP);
      assert.equal(claims.azpacr, '2');
    }
  });

  const refusals: [string, () => Promise<string>, number][] = [
    ['signed by another key', () => projected(strangerKey), 700027],
    [
      'another issuer (known keys, no credential)',
      () => projected(strangerKey, { iss: 'https://stranger.example' }),
      700211,
    ],
    ['an issuer the mock has no keys for', () => projected(clusterKey, { iss: 'https://unknown.example' }), 700211],
    ['another service account', () => projected(clusterKey, { sub: 'system:serviceaccount:team:other' }), 700213],
    ['expired', () => projected(clusterKey, { iat: 1_000_000, nbf: 1_000_000, exp: 1_003_600 }), 700024],
  ];
  for (const [name, make, code] of refusals) {
    it(`refuses a token ${name}: 401 invalid_client AADSTS${code}`, async () => {
      const res = await cc(await make());
      assert.equal(res.status, 401);
      assert.equal(res.body.error, 'invalid_client');
      assert.deepEqual(res.body.error_codes, [code]);
    });
  }

  it('a projected token does not authenticate a client without federated credentials', async () => {
    const res = await postToken(mock, {
      grant_type: 'client_credentials',
      scope: `api://${APP}/.default`,
      client_id: API.clientId,
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: await projected(clusterKey),
    });
    assert.equal(res.status, 401);
    assert.equal(res.body.error, 'invalid_client');
    assert.deepEqual(res.body.error_codes, [700027], 'checked as its own assertion: it has no certificate');
  });
});

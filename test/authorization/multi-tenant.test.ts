// Multi-tenant mode (issue 17): the `{tenantid}` issuer template of Entra's organizations/common metadata is
// resolved per token from its `tid`, which must be on VESTIBULE_ALLOWED_TENANTS; start-up refuses the mode
// without the list (config: rules-config.test.ts; here the validator and the discovery against the mock).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { generateClientJwk } from '../../mock-entra/keys.js';
import { isVestibuleError } from '../../src/errors/registry.js';
import { JwksCache } from '../../src/oidc/jwks.js';
import { discoverProvider } from '../../src/oidc/provider.js';
import { TokenValidator } from '../../src/oidc/token-validator.js';

const TEMPLATE = 'https://login.microsoftonline.com/{tenantid}/v2.0';
const ALLOWED = '77678b69-1daf-47b6-9072-771d270ac800';
const OTHER = '7f3c2b1a-0d4e-4c5b-9a8f-1e2d3c4b5a69';
const CLIENT_ID = '0a1b2c3d-1111-4111-8111-000000000001';

let key: CryptoKey;
let publicJwk: JWK;
let jwks: JwksCache;
let validator: TokenValidator;

async function token(tid: string | undefined, iss = TEMPLATE.replace('{tenantid}', tid ?? '')): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: JWTPayload = { iss, aud: CLIENT_ID, iat: now, exp: now + 600, ver: '2.0', azp: CLIENT_ID, scp: 'x' };
  if (tid !== undefined) claims.tid = tid;
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: 'k1' }).sign(key);
}

async function problem(t: string): Promise<string | undefined> {
  try {
    await validator.validate(t, { audience: CLIENT_ID, requireAccessToken: true });
    return undefined;
  } catch (err) {
    assert.ok(isVestibuleError(err));
    return err.detail;
  }
}

before(async () => {
  const pair = await generateKeyPair('RS256');
  key = pair.privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  jwks = new JwksCache({
    jwksUri: 'https://idp/keys',
    fetch: () => Promise.resolve(Response.json({ keys: [publicJwk] })),
  });
  await jwks.load();
  validator = new TokenValidator({ issuer: TEMPLATE, allowedTenants: [ALLOWED], jwks, leewaySec: 5 });
});

describe('TokenValidator with a multi-tenant issuer', () => {
  it('accepts a token of an allowed tenant whose iss is the template resolved with its tid', async () => {
    assert.equal(await problem(await token(ALLOWED)), undefined);
  });

  it('refuses another tenant, a missing or malformed tid, and an iss that does not match the tid', async () => {
    assert.equal(await problem(await token(OTHER)), 'tenant ("tid") is not among the allowed tenants');
    assert.equal(
      await problem(await token(undefined, TEMPLATE.replace('{tenantid}', ALLOWED))),
      'no tenant id ("tid") to resolve the issuer with',
    );
    assert.equal(await problem(await token('organizations')), 'no tenant id ("tid") to resolve the issuer with');
    assert.equal(await problem(await token(ALLOWED, TEMPLATE.replace('{tenantid}', OTHER))), 'wrong issuer ("iss")');
    assert.equal(await problem(await token(ALLOWED, TEMPLATE)), 'wrong issuer ("iss")');
  });

  it('cannot be built without allowed tenants', () => {
    assert.throws(
      () => new TokenValidator({ issuer: TEMPLATE, jwks, leewaySec: 5 }),
      /non-empty list of allowed tenants/,
    );
    assert.throws(() => new TokenValidator({ issuer: TEMPLATE, allowedTenants: [], jwks, leewaySec: 5 }));
  });
});

describe('discovery of a multi-tenant metadata document', () => {
  let server: Server;
  let base: string;
  let discoveries = 0;
  before(async () => {
    // Entra's organizations metadata, served over loopback: the issuer carries the template.
    server = createServer((req, res) => {
      if (req.url?.endsWith('/openid-configuration')) discoveries++;
      const doc = {
        issuer: TEMPLATE,
        authorization_endpoint: `${base}/organizations/oauth2/v2.0/authorize`,
        token_endpoint: `${base}/organizations/oauth2/v2.0/token`,
        jwks_uri: `${base}/organizations/discovery/v2.0/keys`,
        response_types_supported: ['code'],
        id_token_signing_alg_values_supported: ['RS256'],
      };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(req.url?.endsWith('/keys') ? { keys: [publicJwk] } : doc));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const options = async () => ({
    wellKnownUrl: `${base}/organizations/v2.0/.well-known/openid-configuration`,
    clientId: CLIENT_ID,
    clientAuth: { method: 'private_key_jwt' as const, jwk: (await generateClientJwk()).privateJwk },
    assertionAudience: 'issuer' as const,
    allowInsecure: true,
  });

  it('is refused without allowed tenants, naming the setting', async () => {
    await assert.rejects(discoverProvider(await options()), /VESTIBULE_ALLOWED_TENANTS/);
  });

  it('gives a validator that resolves the template with allowed tenants', async () => {
    const before = discoveries;
    const provider = await discoverProvider({ ...(await options()), allowedTenants: [ALLOWED] });
    try {
      assert.equal(discoveries - before, 1, 'the metadata document is fetched once');
      assert.equal(provider.metadata.issuer, TEMPLATE);
      const claims = await provider.validator.validate(await token(ALLOWED), { audience: CLIENT_ID });
      assert.equal(claims.tid, ALLOWED);
      await assert.rejects(provider.validator.validate(await token(OTHER), { audience: CLIENT_ID }), /allowed tenants/);
    } finally {
      provider.close();
    }
  });
});

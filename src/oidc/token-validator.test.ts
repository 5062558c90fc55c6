import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { VestibuleError } from '../errors/registry.js';
import { JwksCache } from './jwks.js';
import { tenantOf, TokenValidator } from './token-validator.js';

const TID = '7f3c2b1a-0d4e-4c5b-9a8f-1e2d3c4b5a69';
const ISSUER = `https://login.microsoftonline.com/${TID}/v2.0`;
const CLIENT_ID = '0a1b2c3d-1111-4111-8111-000000000001';
const NOW = 1_900_000_000;

let privateKey: CryptoKey;
let publicJwk: JWK;
let validator: TokenValidator;

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

function claims(extra: Record<string, unknown> = {}): JWTPayload {
  const base: Record<string, unknown> = {
    iss: ISSUER,
    aud: CLIENT_ID,
    tid: TID,
    iat: NOW - 60,
    nbf: NOW - 60,
    exp: NOW + 3600,
    oid: 'user-oid',
    scp: 'defaultaccess',
    ...extra,
  };
  return Object.fromEntries(Object.entries(base).filter(([, v]) => v !== undefined));
}

async function sign(payload: JWTPayload, header: Record<string, unknown> = {}, key: CryptoKey = privateKey) {
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: 'k1', ...header }).sign(key);
}

async function reason(token: string, options: Parameters<TokenValidator['validate']>[1] = { audience: CLIENT_ID }) {
  try {
    await validator.validate(token, options);
  } catch (err) {
    assert.ok(err instanceof VestibuleError);
    assert.equal(err.code, 'TOKEN_INVALID');
    return err.detail ?? '';
  }
  assert.fail('the token was accepted');
}

before(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true });
  privateKey = pair.privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', use: 'sig' };
  const jwks = new JwksCache({
    jwksUri: 'https://idp/keys',
    fetch: () => Promise.resolve(Response.json({ keys: [publicJwk] })),
    now: () => NOW * 1000,
  });
  await jwks.load();
  validator = new TokenValidator({ issuer: ISSUER, jwks, leewaySec: 5, now: () => NOW * 1000 });
});

describe('TokenValidator', () => {
  it('accepts a good token and returns its claims', async () => {
    const payload = await validator.validate(await sign(claims()), { audience: CLIENT_ID, requireUser: true });
    assert.equal(payload.oid, 'user-oid');
    assert.equal(validator.issuer, ISSUER);
  });

  it('honours the leeway on exp and nbf', async () => {
    await validator.validate(await sign(claims({ exp: NOW - 4 })), { audience: CLIENT_ID });
    await validator.validate(await sign(claims({ nbf: NOW + 4 })), { audience: CLIENT_ID });
    assert.equal(await reason(await sign(claims({ exp: NOW - 6 }))), 'expired ("exp")');
    assert.equal(await reason(await sign(claims({ nbf: NOW + 6 }))), 'not yet valid ("nbf")');
  });

  it('rejects the bad-token battery with a reason', async () => {
    const good = await sign(claims());
    const [h, p, s] = good.split('.') as [string, string, string];
    const { privateKey: otherKey } = await generateKeyPair('RS256');
    const pem = createPublicKey({ key: publicJwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    const hs256 = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .sign(new TextEncoder().encode(String(pem)));
    const flipped = s.slice(0, 10) + (s[10] === 'A' ? 'B' : 'A') + s.slice(11);
    const cases: [string, string, RegExp][] = [
      ['expired', await sign(claims({ exp: NOW - 3600, iat: NOW - 7200 })), /^expired/],
      ['not yet valid', await sign(claims({ nbf: NOW + 3600 })), /^not yet valid/],
      ['issued in the future', await sign(claims({ iat: NOW + 3600 })), /issued in the future/],
      ['wrong audience', await sign(claims({ aud: 'someone-else' })), /^wrong audience/],
      ['wrong issuer', await sign(claims({ iss: 'https://login.microsoftonline.com/other/v2.0' })), /^wrong issuer/],
      ['missing issuer', await sign(claims({ iss: undefined })), /missing required claim "iss"/],
      ['v1 issuer', await sign(claims({ iss: `https://sts.windows.net/${TID}/` })), /v1\.0 token.*sts\.windows\.net/],
      ['alg none', `${b64({ alg: 'none', typ: 'JWT', kid: 'k1' })}.${p}.`, /"none" is not accepted/],
      ['no alg', `${b64({ typ: 'JWT', kid: 'k1' })}.${p}.`, /"none" is not accepted/],
      ['HS256 with the public key', hs256, /"HS256" is not accepted/],
      ['unknown kid', await sign(claims(), { kid: 'other' }, otherKey), /unknown "kid"/],
      ['no kid', await sign(claims(), { kid: undefined }), /missing key id/],
      ['other key, known kid', await sign(claims(), {}, otherKey), /signature does not verify/],
      ['tampered payload', `${h}.${b64({ ...claims(), oid: 'admin' })}.${s}`, /signature does not verify/],
      ['tampered signature', `${h}.${p}.${flipped}`, /signature does not verify/],
      ['missing exp', await sign(claims({ exp: undefined })), /missing required claim "exp"/],
      ['missing iat', await sign(claims({ iat: undefined })), /missing required claim "iat"/],
      ['exp not a number', await sign(claims({ exp: String(NOW + 3600) })), /claim "exp" is not a number/],
      ['wrong tenant', await sign(claims({ tid: '00000000-0000-0000-0000-000000000000' })), /wrong tenant/],
      ['not a JWT', 'not-a-jwt', /not a JWT/],
      ['JSON garbage payload', `${h}.${Buffer.from('{').toString('base64url')}.${s}`, /not a JWT/],
    ];
    for (const [name, token, expected] of cases) {
      assert.match(await reason(token), expected, name);
    }
  });

  it('requireUser refuses app tokens and tokens without scp (e.g. ID tokens)', async () => {
    const app = await sign(claims({ idtyp: 'app', scp: undefined, roles: ['access_as_application'] }));
    assert.match(await reason(app, { audience: CLIENT_ID, requireUser: true }), /application token/);
    await validator.validate(app, { audience: CLIENT_ID });
    const idToken = await sign(claims({ scp: undefined, nonce: 'n' }));
    assert.match(await reason(idToken, { audience: CLIENT_ID, requireUser: true }), /no "scp" claim/);
  });

  // Review issue 15, item 5: an ID token has our issuer and audience too; only its shape tells it apart.
  it('token-type confusion: requireAccessToken refuses ID tokens and role-less app tokens', async () => {
    const access = { audience: CLIENT_ID, requireAccessToken: true } as const;
    const v2 = { ver: '2.0', azp: 'caller' };
    const idToken = await sign(claims({ scp: undefined, nonce: 'n', sid: 's', ver: '2.0' }));
    // Login and refresh validate ID tokens without the flag, and must go on doing so.
    await validator.validate(idToken, { audience: CLIENT_ID, nonce: 'n' });
    assert.match(await reason(idToken, access), /an ID token where an access token is required \("nonce"/);
    const refreshedIdToken = await sign(claims({ scp: undefined, roles: ['admin'], ver: '2.0' }));
    await validator.validate(refreshedIdToken, { audience: CLIENT_ID });
    assert.match(await reason(refreshedIdToken, access), /no "azp" claim/);
    for (const [extra, expected] of [
      [{ ...v2, at_hash: 'h' }, /"at_hash" is only in ID tokens/],
      [{ ...v2, c_hash: 'h' }, /"c_hash" is only in ID tokens/],
      [{ azp: 'caller' }, /"ver" is null/],
      [{ ...v2, ver: '1.0' }, /"ver" is "1.0"/],
      [{ ...v2, scp: ' ' }, /empty or malformed "scp"/],
      [{ ...v2, scp: ['a'] }, /empty or malformed "scp"/],
      [{ ...v2, scp: undefined, idtyp: 'app' }, /application token with no "roles"/],
      [{ ...v2, scp: undefined, idtyp: 'app', roles: 'r' }, /application token with no "roles"/],
      [{ ...v2, scp: undefined, idtyp: 'app', roles: [''] }, /application token with no "roles"/],
      [{ ...v2, idtyp: 'app', roles: ['r'] }, /both "idtyp": "app" and "scp"/],
      [{ ...v2, scp: undefined }, /neither "scp" nor "roles"/],
      [{ ...v2, scp: undefined, idtyp: 'user', roles: ['r'] }, /"idtyp" "user" but no "scp"/],
    ] as const) {
      assert.match(await reason(await sign(claims(extra)), access), expected, JSON.stringify(extra));
    }
    for (const extra of [
      v2,
      { ...v2, roles: ['admin'] },
      { ...v2, scp: undefined, idtyp: 'app', roles: ['access_as_application'] },
      { ...v2, scp: undefined, roles: ['access_as_application'] },
    ]) {
      assert.equal((await validator.validate(await sign(claims(extra)), access)).aud, CLIENT_ID);
    }
  });

  it('checks the nonce when asked', async () => {
    const token = await sign(claims({ nonce: 'n1' }));
    await validator.validate(token, { audience: CLIENT_ID, nonce: 'n1' });
    assert.match(await reason(token, { audience: CLIENT_ID, nonce: 'n2' }), /nonce/);
  });
});

describe('isOurIssuer', () => {
  it('is the exact issuer, or the multi-tenant template with an allowed tenant only', () => {
    assert.equal(validator.isOurIssuer(ISSUER), true);
    assert.equal(validator.isOurIssuer(`${ISSUER}/`), false);
    assert.equal(validator.isOurIssuer(ISSUER.replace(TID, '00000000-0000-4000-8000-000000000000')), false);
    const other = '1c7e1f00-2b3c-4d5e-8f90-a1b2c3d4e5f6';
    const multi = new TokenValidator({
      issuer: 'https://login.microsoftonline.com/{tenantid}/v2.0',
      jwks: new JwksCache({ jwksUri: 'https://idp/keys', fetch: () => Promise.resolve(Response.json({ keys: [] })) }),
      allowedTenants: [TID],
      leewaySec: 5,
    });
    assert.equal(multi.isOurIssuer(ISSUER), true);
    assert.equal(multi.isOurIssuer(`https://login.microsoftonline.com/${other}/v2.0`), false);
    assert.equal(multi.isOurIssuer('https://login.microsoftonline.com/{tenantid}/v2.0'), false);
  });
});

describe('tenantOf', () => {
  it('reads the tenant of a v2.0 issuer', () => {
    assert.equal(tenantOf(ISSUER), TID);
    assert.equal(tenantOf(`http://127.0.0.1:5000/${TID.toUpperCase()}/v2.0`), TID);
    assert.equal(tenantOf('https://login.microsoftonline.com/common/v2.0'), undefined);
  });
});

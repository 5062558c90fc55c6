import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import type { TokenRule } from '../config/settings.js';
import { JwksCache } from '../oidc/jwks.js';
import { TokenValidator } from '../oidc/token-validator.js';
import { decideAccess, headerSafe, rolesOrScopesHold } from './decision.js';
import { bearerToken, createRequireToken, type RequireToken as GatherFacts } from './require-token.js';
import { rolesOf, scopesOf, type ProtectedFacts } from './token-facts.js';

/** The old shape of a protected-path answer: what decideAccess makes of the gathered facts. */
interface Outcome {
  readonly protected: boolean;
  readonly ok?: true;
  readonly status?: number;
  readonly wwwAuthenticate?: string | undefined;
  readonly reason?: string;
}
type RequireToken = (
  path: string,
  authorization: string | undefined,
  sessionToken: string | undefined,
) => Promise<Outcome>;

function outcomeOf(facts: ProtectedFacts): Outcome {
  if (!facts.protected) return { protected: false };
  const v = decideAccess({
    targetProblem: undefined,
    session: { kind: 'none' },
    token: facts,
    autoLogin: false,
    loginExempt: false,
    navigation: false,
    upgrade: 'none',
    crossSite: false,
    unsafeMethod: false,
    csrfCheck: false,
    preflight: false,
  });
  if (v.kind === 'forward') return { protected: true, ok: true };
  if (v.kind !== 'deny') throw new Error(`unexpected verdict ${v.kind}`);
  return { protected: true, status: v.status, wwwAuthenticate: v.wwwAuthenticate, reason: v.reason };
}

/** The facts gatherer with the session passed as its access token alone, judged by decideAccess. */
function judged(gather: GatherFacts): RequireToken {
  return async (path, authorization, sessionToken) =>
    outcomeOf(
      await gather(
        path,
        authorization,
        sessionToken === undefined
          ? undefined
          : { accessToken: sessionToken, sessionId: 's1', endsAt: Date.now() + 60_000 },
      ),
    );
}

const TID = '7f3c2b1a-0d4e-4c5b-9a8f-1e2d3c4b5a69';
const ISSUER = `https://login.microsoftonline.com/${TID}/v2.0`;
const CLIENT_ID = '0a1b2c3d-1111-4111-8111-000000000001';

let key: CryptoKey;
let validator: TokenValidator;

function rule(pattern: string, roles: string[] = [], scopes: string[] = []): TokenRule {
  return { pattern, roles, scopes, groups: [], callers: [], acrs: [] };
}

async function token(extra: Record<string, unknown> = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  // An Entra v2 delegated access token's shape; pass a claim as undefined to drop it.
  const shape: Record<string, unknown> = {
    iss: ISSUER,
    aud: CLIENT_ID,
    tid: TID,
    iat: now,
    nbf: now,
    exp: now + 600,
    ver: '2.0',
    azp: CLIENT_ID,
    scp: 'defaultaccess',
    ...extra,
  };
  const claims = Object.fromEntries(Object.entries(shape).filter(([, value]) => value !== undefined));
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: 'k1' }).sign(key);
}

before(async () => {
  const pair = await generateKeyPair('RS256');
  key = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1' };
  const jwks = new JwksCache({
    jwksUri: 'https://idp/keys',
    fetch: () => Promise.resolve(Response.json({ keys: [jwk] })),
  });
  await jwks.load();
  validator = new TokenValidator({ issuer: ISSUER, jwks, leewaySec: 5 });
});

describe('createRequireToken', () => {
  let check: RequireToken;
  before(() => {
    check = judged(
      createRequireToken({
        rules: [rule('/api/**'), rule('/api/admin/**', ['admin']), rule('/reports/**', [], ['reports.read'])],
        validator,
        clientId: CLIENT_ID,
      }),
    );
  });

  it('leaves unmatched paths alone, and everything when there are no rules', async () => {
    assert.deepEqual(await check('/public/x', undefined, undefined), { protected: false });
    assert.deepEqual(await check('/public?next=/api/x', undefined, undefined), { protected: false });
    const none = judged(createRequireToken({ rules: [], validator, clientId: CLIENT_ID }));
    assert.deepEqual(await none('/api/x', undefined, undefined), { protected: false });
  });

  it('asks for a token with a bare Bearer challenge when there is none', async () => {
    const expected = { protected: true, status: 401, wwwAuthenticate: 'Bearer', reason: 'no token' };
    assert.deepEqual(await check('/api/x', undefined, undefined), expected);
    assert.deepEqual(await check('/api', 'Basic dXNlcjpwYXNz', undefined), expected);
  });

  it('accepts a valid bearer token on the normalised path', async () => {
    const t = await token();
    assert.deepEqual(await check('/api/x', `Bearer ${t}`, undefined), { protected: true, ok: true });
    assert.deepEqual(await check('//api/./y/?q=1', `bearer ${t}`, undefined), { protected: true, ok: true });
  });

  it('rejects an invalid or malformed bearer token with invalid_token', async () => {
    const bad = await check('/api/x', `Bearer ${await token({ aud: 'other' })}`, undefined);
    assert.deepEqual(bad, {
      protected: true,
      status: 401,
      wwwAuthenticate: `Bearer error="invalid_token", error_description="wrong audience ('aud')"`,
      reason: 'wrong audience ("aud")',
    });
    const malformed = await check('/api/x', 'Bearer', undefined);
    assert.equal(malformed.status, 401);
    assert.equal(malformed.reason, 'malformed Authorization header');
  });

  it("uses the browser session's access token when there is one", async () => {
    const good = await token();
    assert.deepEqual(await check('/api/x', 'Bearer garbage!', good), { protected: true, ok: true });
    const expired = await token({ exp: 1_000, iat: 900 });
    const res = await check('/api/x', `Bearer ${good}`, expired);
    assert.equal(res.status, 401);
    assert.equal(res.reason, 'expired ("exp")');
  });

  it('requires one of the roles or scopes of every matching rule (403 insufficient_scope)', async () => {
    const admin = await token({ roles: ['admin'] });
    const plain = await token({ roles: ['access_as_application'] });
    assert.deepEqual(await check('/api/admin/x', `Bearer ${admin}`, undefined), { protected: true, ok: true });
    assert.deepEqual(await check('/api/x', `Bearer ${plain}`, undefined), { protected: true, ok: true });
    assert.deepEqual(await check('/api/admin/x', `Bearer ${plain}`, undefined), {
      protected: true,
      status: 403,
      wwwAuthenticate: 'Bearer error="insufficient_scope", error_description="requires one of the roles admin"',
      reason: 'requires one of the roles admin',
    });
    const reader = await token({ scp: 'defaultaccess reports.read' });
    assert.deepEqual(await check('/reports/q1', `Bearer ${reader}`, undefined), { protected: true, ok: true });
    assert.equal((await check('/reports/q1', `Bearer ${plain}`, undefined)).status, 403);
  });

  // Review issue 15, item 4: Express and ASP.NET route /API/x to the handler of /api/x.
  it('protected-path case bypass: /API/x, /Api/x, /%41PI/x need a token; /api/ADMIN/x needs the admin role', async () => {
    for (const path of ['/API/x', '/Api/x', '/%41PI/x', '/%41pi/x', '/api/ADMIN/x', '/REPORTS/q1', '/Api?x=1']) {
      assert.deepEqual(
        await check(path, undefined, undefined),
        { protected: true, status: 401, wwwAuthenticate: 'Bearer', reason: 'no token' },
        path,
      );
    }
    const plain = await token();
    for (const path of ['/api/ADMIN/x', '/API/admin', '/Api/Admin/x', '/api/%41DMIN/x', '/%61PI/%61dmin/x']) {
      const decision = await check(path, `Bearer ${plain}`, undefined);
      assert.equal(decision.status, 403, path);
      assert.equal(decision.reason, 'requires one of the roles admin', path);
    }
    const admin = await token({ roles: ['admin'] });
    assert.deepEqual(await check('/API/ADMIN/x', `Bearer ${admin}`, undefined), { protected: true, ok: true });
    assert.deepEqual(await check('/APIx', undefined, undefined), { protected: false });
  });

  // Review issue 15, item 5: the validator alone accepts any RS256 token with our iss/aud/exp.
  it('token-type confusion: ID tokens and app tokens without roles are refused, access tokens pass', async () => {
    const refused: [string, Record<string, unknown>, RegExp][] = [
      // an ID token: aud = our client id, no azp, no scp, often a nonce (login) and roles (app roles assigned)
      ['ID token', { azp: undefined, scp: undefined, nonce: 'n', sid: 's' }, /ID token|no "azp"/],
      ['ID token with app roles', { azp: undefined, scp: undefined, roles: ['admin'] }, /no "azp"/],
      ['ID token carrying azp', { scp: undefined, nonce: 'n' }, /ID token/],
      ['token with at_hash', { scp: undefined, at_hash: 'x' }, /ID token/],
      ['app token without roles', { scp: undefined, idtyp: 'app' }, /no "roles"/],
      ['app token without idtyp or roles', { scp: undefined }, /neither "scp" nor "roles"/],
      ['app token with empty roles', { scp: undefined, idtyp: 'app', roles: [] }, /no "roles"/],
      ['idtyp app with scp', { idtyp: 'app', roles: ['r'] }, /both/],
      ['empty scp', { scp: '' }, /"scp"/],
      ['v1 shape', { ver: '1.0' }, /"ver"/],
    ];
    for (const [name, claims, reason] of refused) {
      const t = await token(claims);
      for (const [authorization, session] of [
        [`Bearer ${t}`, undefined],
        [undefined, t],
      ] as const) {
        const decision = await check('/api/x', authorization, session);
        assert.equal(decision.status, 401, name);
        assert.match(decision.reason ?? '', reason, name);
        assert.match(decision.wwwAuthenticate ?? '', /^Bearer error="invalid_token"/, name);
      }
    }
    const accepted: [string, Record<string, unknown>][] = [
      ['user access token', {}],
      ['user access token with app roles', { roles: ['admin'] }],
      ['app token (NAIS: idtyp + roles)', { scp: undefined, idtyp: 'app', roles: ['access_as_application'] }],
      ['app token without the idtyp optional claim', { scp: undefined, roles: ['access_as_application'] }],
    ];
    for (const [name, claims] of accepted) {
      assert.deepEqual(
        await check('/api/x', `Bearer ${await token(claims)}`, undefined),
        {
          protected: true,
          ok: true,
        },
        name,
      );
    }
  });

  it('treats a path without canonical form as matching every rule', async () => {
    const plain = await token({ scp: 'reports.read' });
    assert.equal((await check('/api%2Fadmin/x', undefined, undefined)).status, 401);
    assert.equal((await check('/api%2Fadmin/x', `Bearer ${plain}`, undefined)).status, 403);
    const all = await token({ roles: ['admin'], scp: 'reports.read' });
    assert.deepEqual(await check('/api%2Fadmin/x', `Bearer ${all}`, undefined), { protected: true, ok: true });
  });
});

describe('helpers', () => {
  it('bearerToken tells "no bearer credential" from "malformed"', () => {
    assert.equal(bearerToken(undefined), undefined);
    assert.equal(bearerToken('Basic abc'), undefined);
    assert.equal(bearerToken('Bearerx abc'), undefined);
    assert.equal(bearerToken('Bearer a.b.c'), 'a.b.c');
    assert.equal(bearerToken('BEARER   a.b-_c~+/='), 'a.b-_c~+/=');
    assert.equal(bearerToken('Bearer'), null);
    assert.equal(bearerToken('Bearer a b'), null);
    assert.equal(bearerToken('Bearer a"b'), null);
  });

  it('rolesOrScopesHold: any one role or scope, nothing needed without either', () => {
    const satisfies = (r: TokenRule, c: Record<string, unknown>): boolean =>
      rolesOrScopesHold(r, { roles: rolesOf(c), scopes: scopesOf(c) });
    assert.equal(satisfies(rule('/x'), {}), true);
    assert.equal(satisfies(rule('/x', ['a', 'b']), { roles: ['b'] }), true);
    assert.equal(satisfies(rule('/x', ['a']), { roles: 'a' }), false);
    assert.equal(satisfies(rule('/x', [], ['s']), { scp: 'x s' }), true);
    assert.equal(satisfies(rule('/x', [], ['s']), { scp: 'xs' }), false);
    assert.equal(satisfies(rule('/x', ['a'], ['s']), { scp: 's' }), true);
  });

  it('headerSafe keeps error_description within RFC 6750 characters', () => {
    assert.equal(headerSafe('a "v1.0" token \\ — set x'), "a 'v1.0' token / - set x");
  });
});

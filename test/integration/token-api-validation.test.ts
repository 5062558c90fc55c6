import assert from 'node:assert/strict';
import { createPublicKey, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { importJWK, SignJWT, type JWTPayload } from 'jose';
import pino from 'pino';
import { generateClientJwk } from '../../mock-entra/keys.js';
import { startMockEntra, type MockEntra } from '../../mock-entra/server.js';
import { discoverProvider, type IdentityProvider } from '../../src/oidc/provider.js';
import { decideAccess, NOT_PROTECTED } from '../../src/access/decision.js';
import { createRequireToken } from '../../src/access/require-token.js';
import { buildTokenApi } from '../../src/token-api/server.js';

/** What a protected path answers: passed on, or the status, reason and challenge of the refusal. */
interface Outcome {
  readonly protected: boolean;
  readonly ok?: true;
  readonly status?: number;
  readonly reason?: string;
  readonly wwwAuthenticate?: string | undefined;
}

const APP = randomUUID();
const OTHER = randomUUID();

/** One entry of the bad-token battery: the token and what the validator must say about it. */
interface BadToken {
  readonly name: string;
  readonly token: string;
  readonly reason: RegExp;
  /** Introspection's `error`, in Texas' words (nais/texas tests/integration/token_introspect.rs). */
  readonly texas: string;
}

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('token validation on introspect and protected paths, against the mock Entra ID', () => {
  let mock: MockEntra;
  let provider: IdentityProvider;
  let api: FastifyInstance;
  let url: string;
  let requireToken: (path: string, authorization: string | undefined, session: string | undefined) => Promise<Outcome>;
  let battery: BadToken[];
  let userToken: string;
  let appToken: string;

  /** Signs `payload` with the mock's own signing key, as a forger who stole it would. */
  async function forge(payload: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
    const key = mock.signingKey();
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid, ...header })
      .sign(await importJWK(key.privateJwk, 'RS256'));
  }

  function claimsOf(token: string): JWTPayload {
    return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as JWTPayload;
  }

  before(async () => {
    const { privateJwk, publicJwk } = await generateClientJwk();
    mock = await startMockEntra({
      clients: [
        { clientId: APP, name: 'test:team:app', publicJwks: { keys: [publicJwk] } },
        { clientId: OTHER, name: 'test:team:other' },
      ],
    });
    provider = await discoverProvider({
      wellKnownUrl: mock.wellKnownUrl,
      clientId: APP,
      clientAuth: { method: 'private_key_jwt', jwk: privateJwk },
      assertionAudience: 'issuer',
      allowInsecure: true,
    });
    api = await buildTokenApi({ provider, clientId: APP, logger: pino({ level: 'silent' }) });
    url = await api.listen({ host: '127.0.0.1', port: 0 });
    const gather = createRequireToken({
      rules: [{ pattern: '/api/**', roles: [], scopes: [], groups: [], callers: [], acrs: [] }],
      validator: provider.validator,
      clientId: APP,
    });
    // The gathered facts as the proxy's decision judges them.
    requireToken = async (path, authorization, session) => {
      const facts = await gather(
        path,
        authorization,
        session === undefined ? undefined : { accessToken: session, sessionId: 's', endsAt: Date.now() + 60_000 },
      );
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
      if (facts === NOT_PROTECTED) return { protected: false };
      if (v.kind === 'forward') return { protected: true, ok: true };
      if (v.kind !== 'deny') throw new Error(`unexpected verdict ${v.kind}`);
      return { protected: true, status: v.status, reason: v.reason, wwwAuthenticate: v.wwwAuthenticate };
    };

    userToken = await mock.mintAccessToken({ audience: APP });
    appToken = await mock.mintAccessToken({ audience: APP, appClientId: OTHER });
    const good = claimsOf(userToken);
    const now = Math.floor(Date.now() / 1000);
    const [h, p, s] = userToken.split('.') as [string, string, string];
    const { privateJwk: strangerKey } = await generateClientJwk('unknown-kid');
    const publicPem = createPublicKey({ key: mock.signingKey().publicJwk, format: 'jwk' }).export({
      type: 'spki',
      format: 'pem',
    });
    const without = (name: string): JWTPayload => Object.fromEntries(Object.entries(good).filter(([k]) => k !== name));
    battery = [
      {
        name: 'expired',
        token: await forge({ ...good, iat: now - 7200, nbf: now - 7200, exp: now - 3600 }),
        reason: /^expired/,
        texas: 'invalid token: ExpiredSignature',
      },
      {
        name: 'not yet valid',
        token: await forge({ ...good, nbf: now + 3600 }),
        reason: /^not yet valid/,
        texas: 'invalid token: ImmatureSignature',
      },
      {
        name: 'wrong aud',
        token: await forge({ ...good, aud: OTHER }),
        reason: /^wrong audience/,
        texas: 'invalid token: InvalidAudience',
      },
      {
        name: 'wrong iss',
        token: await forge({ ...good, iss: `https://login.microsoftonline.com/${mock.tenantId}/v2.0` }),
        reason: /^wrong issuer/,
        texas: 'invalid token: InvalidIssuer',
      },
      {
        name: 'v1 issuer',
        token: await forge({ ...good, iss: `https://sts.windows.net/${mock.tenantId}/`, ver: '1.0' }),
        reason: /^a v1\.0 token .*requestedAccessTokenVersion=2/,
        texas: 'invalid token: InvalidIssuer',
      },
      {
        name: 'alg none',
        token: `${b64({ alg: 'none', typ: 'JWT' })}.${p}.`,
        reason: /"none" is not accepted/,
        texas: 'invalid token: InvalidAlgorithm',
      },
      {
        name: 'HS256 signed with the public key',
        token: await new SignJWT(good)
          .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: mock.signingKey().kid })
          .sign(new TextEncoder().encode(String(publicPem))),
        reason: /"HS256" is not accepted/,
        texas: 'invalid token: InvalidAlgorithm',
      },
      {
        name: 'unknown kid',
        token: await new SignJWT(good)
          .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: strangerKey.kid })
          .sign(await importJWK(strangerKey, 'RS256')),
        reason: /unknown "kid"/,
        texas: 'token can not be validated with this identity provider',
      },
      {
        name: 'tampered payload',
        token: `${h}.${b64({ ...good, NAVident: 'Z999999' })}.${s}`,
        reason: /signature/,
        texas: 'invalid token: InvalidSignature',
      },
      {
        name: 'tampered signature',
        token: `${h}.${p}.${s.slice(0, 20)}${s[20] === 'x' ? 'y' : 'x'}${s.slice(21)}`,
        reason: /signature/,
        texas: 'invalid token: InvalidSignature',
      },
      {
        name: 'missing exp',
        token: await forge(without('exp')),
        reason: /missing required claim "exp"/,
        texas: 'invalid token: Missing required claim: exp',
      },
      {
        name: 'missing iat',
        token: await forge(without('iat')),
        reason: /missing required claim "iat"/,
        texas: 'invalid token: Missing required claim: iat',
      },
      {
        name: 'wrong tenant',
        token: await forge({ ...good, tid: randomUUID() }),
        reason: /wrong tenant/,
        texas: 'invalid token: wrong tenant ("tid")',
      },
      {
        name: 'not a JWT',
        token: 'eyJhbGciOi.not.a-jwt',
        reason: /not a JWT/,
        texas: 'invalid token header: InvalidToken',
      },
    ];
  });

  after(async () => {
    await api.close();
    provider.close();
    await mock.close();
  });

  async function introspect(body: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${url}/api/v1/introspect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  describe('POST /api/v1/introspect', () => {
    it('returns active:true with every claim for user and app tokens', async () => {
      const user = await introspect({ identity_provider: 'entra_id', token: userToken });
      assert.equal(user.status, 200);
      assert.equal(user.body.NAVident, mock.users[0]?.navIdent);
      assert.deepEqual(user.body, { active: true, ...claimsOf(userToken) });
      const form = await fetch(`${url}/api/v1/introspect`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ identity_provider: 'azuread', token: appToken }),
      });
      assert.deepEqual(await form.json(), { active: true, ...claimsOf(appToken) });
    });

    it('returns 200 active:false with the reason for every bad token', async () => {
      for (const bad of battery) {
        const res = await introspect({ identity_provider: 'entra_id', token: bad.token });
        assert.equal(res.status, 200, bad.name);
        assert.deepEqual(Object.keys(res.body).sort(), ['active', 'error'], bad.name);
        assert.equal(res.body.active, false, bad.name);
        assert.equal(res.body.error, bad.texas, bad.name);
      }
    });

    it('answers a Texas provider that is not enabled as Texas does (200 active:false); bad input 400', async () => {
      for (const name of ['idporten', 'tokenx', 'maskinporten']) {
        assert.deepEqual(await introspect({ identity_provider: name, token: userToken }), {
          status: 200,
          body: { active: false, error: `identity provider '${name}' is not enabled` },
        });
      }
      // What Texas cannot deserialize is 400 invalid_request there too.
      const missing = await introspect({ identity_provider: 'entra_id' });
      assert.equal(missing.status, 400);
      assert.deepEqual(missing.body, { error: 'invalid_request', error_description: "missing required field 'token'" });
      const unknown = await introspect({ identity_provider: 'okta', token: userToken });
      assert.equal(unknown.status, 400);
      assert.equal(unknown.body.error, 'invalid_request');
      assert.match(String(unknown.body.error_description), /unknown variant 'okta'.*expected one of entra_id, azuread/);
    });

    it("allows Texas' 60 s of clock skew on exp, nbf and iat (the provider's own leeway is 5 s)", async () => {
      const now = Math.floor(Date.now() / 1000);
      const good = claimsOf(userToken);
      const at = async (claims: JWTPayload): Promise<unknown> =>
        (await introspect({ identity_provider: 'entra_id', token: await forge({ ...good, ...claims }) })).body.error;
      assert.equal(await at({ iat: now - 3600, nbf: now - 3600, exp: now - 45 }), undefined, 'expired 45 s ago');
      assert.equal(await at({ iat: now - 3600, nbf: now - 3600, exp: now - 90 }), 'invalid token: ExpiredSignature');
      assert.equal(await at({ nbf: now + 45 }), undefined, 'valid in 45 s');
      assert.equal(await at({ nbf: now + 90 }), 'invalid token: ImmatureSignature');
      assert.equal(await at({ iat: now + 45 }), undefined, 'issued 45 s ahead');
      assert.equal(await at({ iat: now + 90 }), 'invalid token: ImmatureSignature');
    });

    it('does not let a token claim "active" for itself', async () => {
      const token = await forge({ ...claimsOf(userToken), active: 'maybe' });
      const res = await introspect({ identity_provider: 'entra_id', token });
      assert.equal(res.body.active, true);
    });
  });

  describe('createRequireToken with the shared validator', () => {
    it('passes a valid user or app token, from the header or the session', async () => {
      assert.deepEqual(await requireToken('/api/x', `Bearer ${userToken}`, undefined), { protected: true, ok: true });
      assert.deepEqual(await requireToken('/api/x', `Bearer ${appToken}`, undefined), { protected: true, ok: true });
      assert.deepEqual(await requireToken('/api/x', undefined, userToken), { protected: true, ok: true });
    });

    it('answers 401 invalid_token for every bad token, in the header or the session', async () => {
      for (const bad of battery) {
        for (const [authorization, session] of [
          [`Bearer ${bad.token}`, undefined],
          [`Bearer ${userToken}`, bad.token],
        ] as const) {
          const decision = await requireToken('/api/x', authorization, session);
          assert.equal(decision.protected, true, bad.name);
          assert.equal(decision.status, 401, bad.name);
          assert.match(decision.reason ?? '', bad.reason, bad.name);
          assert.match(decision.wwwAuthenticate ?? '', /^Bearer error="invalid_token", error_description="[^"\\]+"$/);
        }
      }
    });
  });

  describe('token-type confusion on protected paths (issue 15, item 5)', () => {
    it('refuses ID-token-shaped and role-less app tokens signed by Entra for our audience, 401 invalid_token', async () => {
      const user = claimsOf(userToken);
      const app = claimsOf(appToken);
      const idToken = Object.fromEntries(
        Object.entries({ ...user, nonce: 'n', sid: randomUUID() }).filter(
          ([k]) => !['azp', 'azpacr', 'scp'].includes(k),
        ),
      );
      const cases: [string, JWTPayload, RegExp][] = [
        ['ID token', idToken, /an ID token where an access token is required/],
        ['ID token without nonce (refreshed)', { ...idToken, nonce: undefined }, /no "azp" claim/],
        ['app token without roles', { ...app, roles: undefined }, /no "roles"/],
      ];
      for (const [name, payload, reason] of cases) {
        const token = await forge(JSON.parse(JSON.stringify(payload)) as JWTPayload);
        const decision = await requireToken('/api/x', `Bearer ${token}`, undefined);
        assert.equal(decision.status, 401, name);
        assert.match(decision.reason ?? '', reason, name);
      }
      assert.deepEqual(await requireToken('/api/x', `Bearer ${appToken}`, undefined), { protected: true, ok: true });
    });
  });

  describe('signing keys', () => {
    // Providers of their own: the battery's unknown kid has started the shared one's refetch cooldown.
    async function freshProvider(): Promise<IdentityProvider> {
      const { privateJwk } = await generateClientJwk();
      return discoverProvider({
        wellKnownUrl: mock.wellKnownUrl,
        clientId: APP,
        clientAuth: { method: 'private_key_jwt', jwk: privateJwk },
        assertionAudience: 'issuer',
        allowInsecure: true,
      });
    }
    const jwksFetches = (status: number): number =>
      mock.requests().filter((r) => r.path.endsWith('/discovery/v2.0/keys') && r.status === status).length;

    it('keeps the cached keys usable when a refetch fails', async () => {
      const fresh = await freshProvider();
      try {
        mock.fail({ kind: 'jwks_down' });
        const failedBefore = jwksFetches(503);
        const stranger = battery.find((b) => b.name === 'unknown kid');
        await assert.rejects(fresh.validator.validate(stranger?.token ?? '', { audience: APP }), /unknown "kid"/);
        assert.equal(jwksFetches(503), failedBefore + 1);
        assert.equal((await fresh.validator.validate(userToken, { audience: APP })).aud, APP);
      } finally {
        mock.clearFailures();
        fresh.close();
      }
    });

    it('picks up a rotated signing key on the first token that uses it', async () => {
      const fresh = await freshProvider();
      try {
        await mock.rotateSigningKey();
        const rotated = await mock.mintAccessToken({ audience: APP });
        const kidOf = (t: string): unknown =>
          (JSON.parse(Buffer.from(t.split('.')[0] ?? '', 'base64url').toString()) as { kid?: unknown }).kid;
        assert.notEqual(kidOf(rotated), kidOf(userToken));
        assert.equal((await fresh.validator.validate(rotated, { audience: APP })).aud, APP);
        assert.equal((await fresh.validator.validate(userToken, { audience: APP })).aud, APP);
      } finally {
        fresh.close();
      }
    });
  });
});

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import pino from 'pino';
import { generateClientJwk } from '../../mock-entra/keys.js';
import { startMockEntra, type MockEntra } from '../../mock-entra/server.js';
import { GRAPH_APP_ID } from '../../mock-entra/scopes.js';
import { discoverProvider, type IdentityProvider } from '../../src/oidc/provider.js';
import { buildTokenApi } from '../../src/token-api/server.js';

const OBO = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const APP = randomUUID();
const DOWNSTREAM = randomUUID();
const LOCKED = randomUUID();

interface Api {
  readonly url: string;
  readonly app: FastifyInstance;
  /** Moves the token API's clock (not the mock's) forward. */
  advance(ms: number): void;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

describe('token API: client credentials and on-behalf-of against the mock Entra ID', () => {
  let mock: MockEntra;
  let provider: IdentityProvider;
  let verifyKeys: ReturnType<typeof createRemoteJWKSet>;
  const apis: FastifyInstance[] = [];

  before(async () => {
    const { privateJwk, publicJwk } = await generateClientJwk();
    mock = await startMockEntra({
      clients: [
        { clientId: APP, name: 'test:team:app', publicJwks: { keys: [publicJwk] } },
        { clientId: DOWNSTREAM, name: 'test:team:downstream', preAuthorizedClientIds: [APP] },
        { clientId: LOCKED, name: 'test:team:locked', preAuthorizedClientIds: [] },
      ],
    });
    provider = await discoverProvider({
      wellKnownUrl: mock.wellKnownUrl,
      clientId: APP,
      clientAuth: { method: 'private_key_jwt', jwk: privateJwk },
      assertionAudience: 'issuer',
      allowInsecure: true,
    });
    verifyKeys = createRemoteJWKSet(new URL(`${mock.url}/${mock.tenantId}/discovery/v2.0/keys`));
  });

  after(async () => {
    for (const app of apis) await app.close();
    provider.close();
    await mock.close();
  });

  /** A fresh token API (own caches, own clock) on a free port; `setup` may add hooks before it listens. */
  async function startApi(p: IdentityProvider = provider, setup?: (app: FastifyInstance) => void): Promise<Api> {
    // A frozen clock, moved only by the test, so remaining lifetimes are exact.
    let now = Date.now();
    const app = await buildTokenApi({
      provider: p,
      clientId: APP,
      logger: pino({ level: 'silent' }),
      now: () => now,
    });
    setup?.(app);
    apis.push(app);
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    mock.resetCounters();
    mock.clearFailures();
    return { url, app, advance: (ms) => (now += ms) };
  }

  async function post(api: Api, path: string, body: unknown, contentType = 'application/json'): Promise<Answer> {
    const res = await fetch(`${api.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: contentType === 'application/json' ? JSON.stringify(body) : String(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
  }

  async function verify(token: unknown, audience: string): Promise<JWTPayload> {
    assert.equal(typeof token, 'string');
    const { payload } = await jwtVerify(String(token), verifyKeys, { issuer: mock.issuer, audience });
    return payload;
  }

  const userToken = (user = mock.users[0]): Promise<string> => mock.mintAccessToken({ audience: APP, user });

  describe('POST /api/v1/token (client credentials)', () => {
    it('gets an app token for cluster:namespace:app (JSON) and api://…/.default (form)', async () => {
      const api = await startApi();
      const json = await post(api, '/api/v1/token', { identity_provider: 'entra_id', target: 'test:team:downstream' });
      assert.equal(json.status, 200);
      assert.deepEqual(Object.keys(json.body).sort(), ['access_token', 'expires_in', 'token_type']);
      assert.equal(json.body.token_type, 'Bearer');
      assert.equal(json.body.expires_in, 3600);
      assert.equal(json.headers.get('cache-control'), 'no-store');
      const claims = await verify(json.body.access_token, DOWNSTREAM);
      assert.equal(claims.azp, APP);
      assert.equal(claims.idtyp, 'app');
      assert.deepEqual(claims.roles, ['access_as_application']);

      const form = await post(
        api,
        '/api/v1/token',
        `identity_provider=azuread&target=${encodeURIComponent(`api://${DOWNSTREAM}/.default`)}`,
        'application/x-www-form-urlencoded',
      );
      assert.equal(form.status, 200);
      assert.equal((await verify(form.body.access_token, DOWNSTREAM)).azp, APP);
      assert.equal(mock.grantCount('client_credentials'), 2);
    });

    it('passes any other target to Entra as the scope unchanged (Texas): Graph, a bare client id; Entra decides', async () => {
      const api = await startApi();
      const graph = await post(api, '/api/v1/token', {
        identity_provider: 'entra_id',
        target: 'https://graph.microsoft.com/.default',
      });
      assert.equal(graph.status, 200, JSON.stringify(graph.body));
      assert.equal((await verify(graph.body.access_token, GRAPH_APP_ID)).azp, APP);
      const bare = await post(api, '/api/v1/token', {
        identity_provider: 'entra_id',
        target: `${DOWNSTREAM}/.default`,
      });
      assert.equal(bare.status, 200, JSON.stringify(bare.body));
      await verify(bare.body.access_token, DOWNSTREAM);
      // Not a client-credentials scope: Entra's answer (status, error, description) comes back, as from Texas.
      const refused = await post(api, '/api/v1/token', { identity_provider: 'entra_id', target: 'api://x/User.Read' });
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error, 'invalid_scope');
      assert.match(String(refused.body.error_description), /AADSTS1002012/);
      assert.equal(mock.grantCount('client_credentials'), 3);
    });

    it('accepts resource and authorization_details as Texas does: part of the cache key, never sent to Entra ID', async () => {
      const api = await startApi();
      const base = { identity_provider: 'entra_id', target: 'test:team:downstream' };
      const details = [{ type: 'urn:example', id: 1 }];
      const plain = await post(api, '/api/v1/token', base);
      const withResource = await post(api, '/api/v1/token', { ...base, resource: 'https://resource.example/api' });
      const withDetails = await post(api, '/api/v1/token', { ...base, authorization_details: details });
      // The form spelling: authorization_details as its JSON text; the same key as the JSON array above.
      const formDetails = await post(
        api,
        '/api/v1/token',
        new URLSearchParams({ ...base, authorization_details: JSON.stringify(details) }).toString(),
        'application/x-www-form-urlencoded',
      );
      for (const r of [plain, withResource, withDetails, formDetails])
        assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.notEqual(withResource.body.access_token, plain.body.access_token);
      assert.notEqual(withDetails.body.access_token, plain.body.access_token);
      assert.equal(formDetails.body.access_token, withDetails.body.access_token);
      assert.equal(mock.grantCount('client_credentials'), 3);
      for (const r of mock.requests().filter((e) => e.grant === 'client_credentials')) {
        assert.deepEqual(r.fields, ['client_assertion', 'client_assertion_type', 'client_id', 'grant_type', 'scope']);
      }
    });

    it('serves the cached token with its real remaining lifetime, and renews it at expires_in − 120 s', async () => {
      const api = await startApi();
      const req = { identity_provider: 'entra_id', target: 'test:team:downstream' };
      const first = await post(api, '/api/v1/token', req);
      api.advance(100_000);
      // The other spelling of the same target, and the azuread alias, share the entry.
      const second = await post(api, '/api/v1/token', {
        identity_provider: 'azuread',
        target: 'api://test.team.downstream/.default',
      });
      assert.equal(second.body.access_token, first.body.access_token);
      assert.equal(second.body.expires_in, 3500);
      assert.equal(mock.grantCount('client_credentials'), 1);

      api.advance(3_380_000); // 3 480 s after issue: 120 s before expiry
      const renewed = await post(api, '/api/v1/token', req);
      assert.notEqual(renewed.body.access_token, first.body.access_token);
      assert.equal(renewed.body.expires_in, 3600);
      assert.equal(mock.grantCount('client_credentials'), 2);
    });

    it('halves short lifetimes for the cache', async () => {
      const api = await startApi();
      mock.setLifetimes({ accessToken: 100 });
      try {
        const req = { identity_provider: 'entra_id', target: 'test:team:downstream' };
        const first = await post(api, '/api/v1/token', req);
        assert.equal(first.body.expires_in, 100);
        api.advance(49_000);
        assert.equal((await post(api, '/api/v1/token', req)).body.access_token, first.body.access_token);
        api.advance(1_000);
        assert.notEqual((await post(api, '/api/v1/token', req)).body.access_token, first.body.access_token);
        assert.equal(mock.grantCount('client_credentials'), 2);
      } finally {
        mock.setLifetimes({ accessToken: 3600 });
      }
    });

    it('skip_cache fetches a new token and replaces the cached one', async () => {
      const api = await startApi();
      const req = { identity_provider: 'entra_id', target: 'test:team:downstream' };
      const first = await post(api, '/api/v1/token', req);
      const fresh = await post(api, '/api/v1/token', { ...req, skip_cache: true });
      assert.equal(fresh.status, 200);
      assert.notEqual(fresh.body.access_token, first.body.access_token);
      const after = await post(
        api,
        '/api/v1/token',
        'identity_provider=entra_id&target=test%3Ateam%3Adownstream',
        'application/x-www-form-urlencoded',
      );
      assert.equal(after.body.access_token, fresh.body.access_token);
      assert.equal(mock.grantCount('client_credentials'), 2);
    });

    it('coalesces 500 concurrent identical requests into one call to Entra', { timeout: 15_000 }, async () => {
      const N = 500;
      let arrived = 0;
      let release!: () => void;
      const allArrived = new Promise<void>((resolve) => (release = resolve));
      // The IdP call waits until every request is inside the API, so none of them can be a later cache hit.
      const gated = new Proxy(provider, {
        get(target, prop) {
          if (prop === 'clientCredentials') {
            return async (scope: string) => {
              await allArrived;
              return target.clientCredentials(scope);
            };
          }
          const value: unknown = Reflect.get(target, prop, target);
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
      const api = await startApi(gated, (app) =>
        app.addHook('preHandler', (_request, _reply, done) => {
          if (++arrived === N) release();
          done();
        }),
      );
      const req = { identity_provider: 'entra_id', target: 'test:team:downstream' };
      const answers = await Promise.all(Array.from({ length: N }, () => post(api, '/api/v1/token', req)));
      assert.equal(mock.grantCount('client_credentials'), 1);
      assert.equal(new Set(answers.map((a) => a.body.access_token)).size, 1);
      assert.ok(answers.every((a) => a.status === 200));
    });
  });

  describe('POST /api/v1/token/exchange (on-behalf-of)', () => {
    it("exchanges a user's token for one to the downstream API, cached per user token", async () => {
      const api = await startApi();
      const ada = await userToken(mock.users[0]);
      const req = { identity_provider: 'entra_id', target: 'test:team:downstream', user_token: ada };
      const first = await post(api, '/api/v1/token/exchange', req);
      assert.equal(first.status, 200);
      assert.equal(first.body.token_type, 'Bearer');
      assert.equal(first.body.expires_in, 3600);
      const claims = await verify(first.body.access_token, DOWNSTREAM);
      assert.equal(claims.azp, APP);
      assert.equal(claims.oid, mock.users[0]?.oid);
      assert.equal(claims.scp, 'defaultaccess');
      assert.equal(claims.idtyp, undefined);

      assert.equal((await post(api, '/api/v1/token/exchange', req)).body.access_token, first.body.access_token);
      const other = await post(api, '/api/v1/token/exchange', { ...req, user_token: await userToken(mock.users[1]) });
      assert.equal((await verify(other.body.access_token, DOWNSTREAM)).oid, mock.users[1]?.oid);
      const skipped = await post(api, '/api/v1/token/exchange', { ...req, skip_cache: true });
      assert.notEqual(skipped.body.access_token, first.body.access_token);
      assert.equal(mock.grantCount(OBO), 3);
    });

    it('validates the user token first: app tokens, foreign and expired tokens never reach Entra', async () => {
      const api = await startApi();
      const now = Math.floor(Date.now() / 1000);
      const cases: [string, string, RegExp][] = [
        [
          'app token',
          await mock.mintAccessToken({ audience: APP, appClientId: DOWNSTREAM }),
          /application token where a user token is required/,
        ],
        ['token for another app', await mock.mintAccessToken({ audience: DOWNSTREAM }), /wrong audience/],
        [
          'expired',
          await mock.mintAccessToken({
            audience: APP,
            extraClaims: { iat: now - 7200, nbf: now - 7200, exp: now - 3600 },
          }),
          /expired/,
        ],
        ['garbage', 'not-a-token', /not a JWT/],
      ];
      for (const [name, token, reason] of cases) {
        const res = await post(api, '/api/v1/token/exchange', {
          identity_provider: 'entra_id',
          target: 'test:team:downstream',
          user_token: token,
        });
        assert.equal(res.status, 400, name);
        assert.equal(res.body.error, 'invalid_grant', name);
        assert.match(String(res.body.error_description), /^field 'user_token' is not a valid user token/, name);
        assert.match(String(res.body.error_description), reason, name);
      }
      assert.equal(mock.grantCount(OBO), 0);
    });
  });

  describe("Entra's errors", () => {
    it('pass invalid_grant through with status and description only, and are not cached', async () => {
      const api = await startApi();
      const req = { identity_provider: 'entra_id', target: 'test:team:downstream' };
      mock.fail({ kind: 'invalid_grant', grant: 'client_credentials', times: 1 });
      const failed = await post(api, '/api/v1/token', req);
      assert.equal(failed.status, 400);
      assert.deepEqual(Object.keys(failed.body).sort(), ['error', 'error_description']);
      assert.equal(failed.body.error, 'invalid_grant');
      assert.match(String(failed.body.error_description), /^AADSTS50173: /);
      const retried = await post(api, '/api/v1/token', req);
      assert.equal(retried.status, 200);
      assert.equal(mock.grantCount('client_credentials'), 2);
    });

    it('pass a missing access policy (AADSTS501051) through', async () => {
      const api = await startApi();
      const res = await post(api, '/api/v1/token', { identity_provider: 'entra_id', target: 'test:team:locked' });
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'invalid_grant');
      assert.match(String(res.body.error_description), /^AADSTS501051: /);
    });

    it('pass interaction_required through with the claims challenge', async () => {
      const api = await startApi();
      mock.fail({ kind: 'interaction_required', grant: OBO, times: 1 });
      const res = await post(api, '/api/v1/token/exchange', {
        identity_provider: 'entra_id',
        target: 'test:team:downstream',
        user_token: await userToken(),
      });
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'interaction_required');
      assert.match(String(res.body.error_description), /^AADSTS50079: /);
      const claims = JSON.parse(String(res.body.claims)) as { access_token: { polids: { essential: boolean } } };
      assert.equal(claims.access_token.polids.essential, true);
    });

    it("keep Entra's 401, and turn an unreadable 503 into 500 server_error without internals", async () => {
      const api = await startApi();
      const req = { identity_provider: 'entra_id', target: 'test:team:downstream' };
      mock.fail({ kind: 'status', status: 401, grant: 'client_credentials', times: 1 });
      const unauthorized = await post(api, '/api/v1/token', req);
      assert.equal(unauthorized.status, 401);
      assert.equal(unauthorized.body.error, 'invalid_client');
      mock.fail({ kind: 'status', status: 503, grant: 'client_credentials', times: 1 });
      const down = await post(api, '/api/v1/token', req);
      assert.equal(down.status, 500);
      assert.deepEqual(down.body, {
        error: 'server_error',
        error_description: 'The identity provider could not be reached',
      });
    });
  });

  describe('bad input', () => {
    it('is 400 invalid_request naming the field, before Entra is asked', async () => {
      const api = await startApi();
      const user = await userToken();
      const cases: [string, unknown, string, RegExp][] = [
        [
          '/api/v1/token',
          { identity_provider: 'tokenx', target: 'a:b:c' },
          'json',
          /^identity provider 'tokenx' is not enabled$/,
        ],
        ['/api/v1/token', { target: 'a:b:c' }, 'json', /missing required field 'identity_provider'/],
        ['/api/v1/token', { identity_provider: 'entra_id' }, 'json', /missing required field 'target'/],
        ['/api/v1/token', { identity_provider: 'okta', target: 'a:b:c' }, 'json', /unknown variant 'okta'/],
        [
          '/api/v1/token',
          { identity_provider: 'entra_id', target: 'a:b:c', authorization_details: { type: 'x' } },
          'json',
          /field 'authorization_details' must be a JSON array of objects/,
        ],
        [
          '/api/v1/token',
          { identity_provider: 'entra_id', target: 'a:b:c', authorization_details: '[{' },
          'json',
          /failed to parse authorization_details JSON string/,
        ],
        [
          '/api/v1/token',
          { identity_provider: 'entra_id', target: 'a:b:c', resource: 7 },
          'json',
          /field 'resource' must be a string/,
        ],
        [
          '/api/v1/token',
          { identity_provider: 'entra_id', target: 'api://a/.default api://b/.default' },
          'json',
          /invalid field 'target'/,
        ],
        [
          '/api/v1/token',
          { identity_provider: 'entra_id', target: 'a:b:c', skip_cache: 'yes' },
          'json',
          /field 'skip_cache' must be true or false/,
        ],
        [
          '/api/v1/token/exchange',
          { identity_provider: 'entra_id', target: 'a:b:c' },
          'json',
          /missing required field 'user_token'/,
        ],
        [
          '/api/v1/token/exchange',
          { identity_provider: 'maskinporten', target: 'a:b:c', user_token: user },
          'json',
          /^identity provider 'maskinporten' is not enabled$/,
        ],
        ['/api/v1/token', '{"identity_provider":', 'raw-json', /not valid JSON/],
        [
          '/api/v1/token',
          'identity_provider=entra_id&target=a:b:c',
          'text/plain',
          /unsupported media type: "text\/plain"/,
        ],
      ];
      for (const [path, body, kind, description] of cases) {
        const res =
          kind === 'json'
            ? await post(api, path, body)
            : await fetch(`${api.url}${path}`, {
                method: 'POST',
                headers: { 'content-type': kind === 'raw-json' ? 'application/json' : kind },
                body: String(body),
              }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
        assert.equal(res.status, 400, String(description));
        assert.equal(res.body.error, 'invalid_request', String(description));
        assert.match(String(res.body.error_description), description);
      }
      const noBody = await fetch(`${api.url}/api/v1/token`, { method: 'POST' });
      assert.equal(noBody.status, 400);
      assert.match(((await noBody.json()) as { error_description: string }).error_description, /no Content-Type/);
      assert.equal(mock.grantCount(), 0);
    });

    it('answers /healthz and 404 for unknown paths', async () => {
      const api = await startApi();
      const health = await fetch(`${api.url}/healthz`);
      assert.equal(health.status, 200);
      assert.equal(await health.text(), 'ok\n');
      const missing = await fetch(`${api.url}/api/v1/nope`, { method: 'POST' });
      assert.equal(missing.status, 404);
      assert.equal(((await missing.json()) as { error: string }).error, 'invalid_request');
    });
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CLIENT_ASSERTION_TYPE, assertionClaimsProblem } from './client-auth.js';
import { generateClientJwk } from './keys.js';
import { API, decodePart, postToken, SECRET_APP, signAssertion, startFixture, WEB } from './test-fixtures.js';
import type { Fixture } from './test-fixtures.js';

describe('assertionClaimsProblem', () => {
  const ctx = {
    clientId: 'c',
    issuer: 'http://idp/t/v2.0',
    tokenEndpoint: 'http://idp/t/oauth2/v2.0/token',
    now: 1000,
  };
  const good = { iss: 'c', sub: 'c', aud: ctx.issuer, iat: 1000, exp: 1100, jti: 'j' };
  const cases: [string, Record<string, unknown>, number | undefined][] = [
    ['valid, aud = issuer', {}, undefined],
    ['valid, aud = token endpoint', { aud: ctx.tokenEndpoint }, undefined],
    ['valid, single-element aud array', { aud: [ctx.tokenEndpoint] }, undefined],
    ['valid, exactly 600 s', { exp: 1600 }, undefined],
    ['two audiences', { aud: [ctx.issuer, ctx.tokenEndpoint] }, 700027],
    ['foreign audience', { aud: 'http://other/token' }, 700027],
    ['iss is another client', { iss: 'x', sub: 'x' }, 700021],
    ['sub differs from iss', { sub: 'x' }, 50048],
    ['no exp', { exp: undefined }, 700024],
    ['expired', { exp: 1000 }, 700024],
    ['longer than 600 s', { exp: 1601 }, 700024],
    ['issued far in the future', { iat: 1100, exp: 1200 }, 700024],
    ['no jti', { jti: undefined }, 700027],
  ];
  for (const [name, change, code] of cases) {
    it(name, () => {
      const problem = assertionClaimsProblem({ ...good, ...change }, ctx);
      assert.equal(problem?.code, code);
      if (code !== undefined) assert.equal(problem?.status, 401);
    });
  }
});

describe('client authentication at the token endpoint', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture();
  });
  after(() => f.mock.close());

  const ccForm = { grant_type: 'client_credentials', scope: `api://${API.clientId}/.default` };

  async function withAssertion(assertion: string, extra: Record<string, string> = {}) {
    return postToken(f.mock, {
      ...ccForm,
      client_id: WEB.clientId,
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: assertion,
      ...extra,
    });
  }

  it('accepts private_key_jwt with aud = issuer or token endpoint, and without client_id', async () => {
    const byIssuer = await withAssertion(await signAssertion(f.webKey, { clientId: WEB.clientId, aud: f.mock.issuer }));
    assert.equal(byIssuer.status, 200);
    assert.equal(decodePart(byIssuer.body.access_token, 1).azpacr, '2');
    const byEndpoint = await withAssertion(
      await signAssertion(f.webKey, { clientId: WEB.clientId, aud: f.mock.tokenEndpoint }),
    );
    assert.equal(byEndpoint.status, 200);
    const noClientId = await postToken(f.mock, {
      ...ccForm,
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: await signAssertion(f.webKey, { clientId: WEB.clientId, aud: [f.mock.issuer] }),
    });
    assert.equal(noClientId.status, 200);
  });

  it('refuses a replayed assertion (same jti) with 401', async () => {
    const assertion = await signAssertion(f.webKey, { clientId: WEB.clientId, aud: f.mock.issuer });
    assert.equal((await withAssertion(assertion)).status, 200);
    const replay = await withAssertion(assertion);
    assert.equal(replay.status, 401);
    assert.equal(replay.body.error, 'invalid_client');
    assert.deepEqual(replay.body.error_codes, [700027]);
  });

  it('refuses a wrong audience with 401', async () => {
    const res = await withAssertion(
      await signAssertion(f.webKey, { clientId: WEB.clientId, aud: 'https://login.microsoftonline.com/x/v2.0' }),
    );
    assert.equal(res.status, 401);
    assert.equal(res.body.error, 'invalid_client');
  });

  it('refuses lifetimes over 600 s, expired assertions and a missing jti', async () => {
    const long = await withAssertion(
      await signAssertion(f.webKey, { clientId: WEB.clientId, aud: f.mock.issuer, lifetime: 601 }),
    );
    assert.deepEqual([long.status, long.body.error_codes], [401, [700024]]);
    const expired = await withAssertion(
      await signAssertion(f.webKey, { clientId: WEB.clientId, aud: f.mock.issuer, now: 1_000_000 }),
    );
    assert.deepEqual([expired.status, expired.body.error_codes], [401, [700024]]);
    const noJti = await withAssertion(
      await signAssertion(f.webKey, { clientId: WEB.clientId, aud: f.mock.issuer, jti: null }),
    );
    assert.deepEqual([noJti.status, noJti.body.error_codes], [401, [700027]]);
  });

  it('refuses an assertion signed with an unregistered key, even with the registered kid', async () => {
    const other = await generateClientJwk(f.webKey.kid);
    const res = await withAssertion(
      await signAssertion(other.privateJwk, { clientId: WEB.clientId, aud: f.mock.issuer }),
    );
    assert.equal(res.status, 401);
    assert.deepEqual(res.body.error_codes, [700027]);
  });

  it('refuses a client_id that does not match the assertion', async () => {
    const assertion = await signAssertion(f.webKey, { clientId: WEB.clientId, aud: f.mock.issuer });
    const res = await withAssertion(assertion, { client_id: SECRET_APP.clientId });
    assert.equal(res.status, 401);
  });

  it('accepts client_secret_post and client_secret_basic with azpacr "1"', async () => {
    const form = { grant_type: 'client_credentials', scope: `api://${SECRET_APP.clientId}/.default` };
    const post = await postToken(f.mock, { ...form, client_id: SECRET_APP.clientId, client_secret: SECRET_APP.secret });
    assert.equal(post.status, 200);
    assert.equal(decodePart(post.body.access_token, 1).azpacr, '1');
    const basicHeader = `Basic ${Buffer.from(`${SECRET_APP.clientId}:${SECRET_APP.secret}`).toString('base64')}`;
    const basic = await postToken(f.mock, form, { authorization: basicHeader });
    assert.equal(basic.status, 200);
  });

  it('refuses a wrong secret with 401 AADSTS7000215', async () => {
    const res = await postToken(f.mock, { ...ccForm, client_id: SECRET_APP.clientId, client_secret: 'nope' });
    assert.equal(res.status, 401);
    assert.equal(res.body.error, 'invalid_client');
    assert.deepEqual(res.body.error_codes, [7000215]);
  });

  it('refuses a request without client authentication with 401 AADSTS7000218', async () => {
    const res = await postToken(f.mock, { ...ccForm, client_id: WEB.clientId });
    assert.equal(res.status, 401);
    assert.deepEqual(res.body.error_codes, [7000218]);
  });

  it('refuses an unknown client with unauthorized_client AADSTS700016', async () => {
    const res = await postToken(f.mock, {
      ...ccForm,
      client_id: '99999999-9999-4999-8999-999999999999',
      client_secret: 'x',
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'unauthorized_client');
    assert.deepEqual(res.body.error_codes, [700016]);
  });

  it('refuses two authentication methods at once', async () => {
    const assertion = await signAssertion(f.webKey, { clientId: WEB.clientId, aud: f.mock.issuer });
    const res = await withAssertion(assertion, { client_secret: 'x' });
    assert.equal(res.status, 401);
  });

  it('refuses a repeated form parameter', async () => {
    const res = await fetch(f.mock.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=client_credentials&scope=a&scope=b&client_id=${SECRET_APP.clientId}&client_secret=x`,
    });
    assert.equal(res.status, 400);
    assert.deepEqual(((await res.json()) as { error_codes: number[] }).error_codes, [9000411]);
  });
});

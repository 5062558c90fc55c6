import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { FailureQueue } from './failures.js';
import { API, loginForTokens, postToken, startFixture, webAuth } from './test-fixtures.js';
import type { Fixture } from './test-fixtures.js';

describe('FailureQueue', () => {
  it('applies failures in order, per grant, and replaces a never-ending one with the same filter', () => {
    const q = new FailureQueue();
    q.add({ kind: 'status', status: 500, times: 1 });
    q.add({ kind: 'invalid_grant', grant: 'refresh_token' });
    assert.equal(q.takeForToken('client_credentials')?.kind, 'status');
    assert.equal(q.takeForToken('client_credentials'), undefined);
    assert.equal(q.takeForToken('refresh_token')?.kind, 'invalid_grant');
    assert.equal(q.takeForToken('refresh_token')?.kind, 'invalid_grant');
    q.add({ kind: 'interaction_required', grant: 'refresh_token' });
    assert.equal(q.takeForToken('refresh_token')?.kind, 'interaction_required');
    q.add({ kind: 'delay', ms: 1, times: 0 });
    q.clear();
    assert.equal(q.takeForToken('refresh_token'), undefined);
  });
});

describe('failure injection at the token endpoint', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture();
  });
  after(() => f.mock.close());
  beforeEach(() => {
    f.mock.clearFailures();
    f.mock.resetCounters();
  });

  async function cc() {
    return postToken(f.mock, {
      grant_type: 'client_credentials',
      scope: `api://${API.clientId}/.default`,
      ...(await webAuth(f)),
    });
  }

  it('answers a 5xx with a plain body once, then normally; counts both', async () => {
    f.mock.fail({ kind: 'status', status: 503, times: 1 });
    const failed = await cc();
    assert.equal(failed.status, 503);
    assert.deepEqual(failed.body, { text: 'Service Unavailable' });
    assert.equal((await cc()).status, 200);
    assert.equal(f.mock.grantCount('client_credentials'), 2);
    assert.deepEqual(
      f.mock.requests().map((r) => [r.grant, r.status]),
      [
        ['client_credentials', 503],
        ['client_credentials', 200],
      ],
    );
  });

  it('answers a 4xx with an Entra-shaped body', async () => {
    f.mock.fail({ kind: 'status', status: 429, times: 1 });
    const res = await cc();
    assert.equal(res.status, 429);
    assert.equal(res.body.error, 'temporarily_unavailable');
    assert.ok(Array.isArray(res.body.error_codes));
  });

  it('throttles with 429 and a Retry-After in seconds or as an HTTP date, also over the control API', async () => {
    f.mock.fail({ kind: 'status', status: 429, grant: 'client_credentials', times: 1, retryAfter: 7 });
    const seconds = await cc();
    assert.deepEqual([seconds.status, seconds.headers.get('retry-after')], [429, '7']);
    assert.equal(seconds.body.error, 'temporarily_unavailable');
    const date = new Date(Date.now() + 60_000).toUTCString();
    const res = await fetch(`${f.mock.url}/_mock/fail`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'status', status: 503, times: 1, retryAfter: date }),
    });
    assert.equal(res.status, 204);
    const unavailable = await cc();
    assert.deepEqual([unavailable.status, unavailable.headers.get('retry-after')], [503, date]);
    assert.equal((await cc()).status, 200);
  });

  it('delays and then answers normally', async () => {
    f.mock.fail({ kind: 'delay', ms: 30, times: 1 });
    const res = await cc();
    assert.equal(res.status, 200);
    assert.equal(typeof res.body.access_token, 'string');
  });

  it('answers invalid_grant with AADSTS70008 for refresh and AADSTS50173 otherwise', async () => {
    const login = await loginForTokens(f);
    f.mock.fail({ kind: 'invalid_grant' });
    const cred = await cc();
    assert.deepEqual([cred.status, cred.body.error, cred.body.error_codes], [400, 'invalid_grant', [50173]]);
    const refresh = await postToken(f.mock, {
      grant_type: 'refresh_token',
      refresh_token: String(login.body.refresh_token),
      ...(await webAuth(f)),
    });
    assert.deepEqual([refresh.status, refresh.body.error, refresh.body.error_codes], [400, 'invalid_grant', [70008]]);
  });

  it('answers interaction_required with AADSTS50079 and a claims challenge, only for the chosen grant', async () => {
    f.mock.fail({ kind: 'interaction_required', grant: 'urn:ietf:params:oauth:grant-type:jwt-bearer' });
    assert.equal((await cc()).status, 200, 'other grants unaffected');
    const res = await postToken(f.mock, {
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      requested_token_use: 'on_behalf_of',
      assertion: 'x',
      scope: 'x',
      client_id: API.clientId,
      client_secret: API.secret,
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'interaction_required');
    assert.deepEqual(res.body.error_codes, [50079]);
    const claims = JSON.parse(String(res.body.claims)) as {
      access_token: { polids: { essential: boolean; values: string[] } };
    };
    assert.equal(claims.access_token.polids.essential, true);
    assert.match(claims.access_token.polids.values[0]!, /^[0-9a-f-]{36}$/);
  });

  it('stops failing after clearFailures', async () => {
    f.mock.fail({ kind: 'status', status: 500 });
    assert.equal((await cc()).status, 500);
    assert.equal((await cc()).status, 500);
    f.mock.clearFailures();
    assert.equal((await cc()).status, 200);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { API, loginForTokens, postToken, startFixture, webAuth } from './test-fixtures.js';
import type { Fixture } from './test-fixtures.js';

describe('control API over HTTP', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture();
  });
  after(() => f.mock.close());

  async function control(action: string, body?: unknown): Promise<Response> {
    return fetch(`${f.mock.url}/_mock/${action}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? '' : JSON.stringify(body),
    });
  }
  async function stats(): Promise<{ grants: Record<string, number>; endSessionCalls: number }> {
    return (await (await fetch(`${f.mock.url}/_mock/stats`)).json()) as {
      grants: Record<string, number>;
      endSessionCalls: number;
    };
  }
  async function cc() {
    return postToken(f.mock, {
      grant_type: 'client_credentials',
      scope: `api://${API.clientId}/.default`,
      ...(await webAuth(f)),
    });
  }

  it('reports and resets counts', async () => {
    await loginForTokens(f);
    await cc();
    await fetch(`${f.mock.url}/${f.mock.tenantId}/oauth2/v2.0/logout`);
    assert.deepEqual(await stats(), {
      grants: {
        authorization_code: 1,
        refresh_token: 0,
        client_credentials: 1,
        'urn:ietf:params:oauth:grant-type:jwt-bearer': 0,
      },
      endSessionCalls: 1,
    });
    assert.equal(f.mock.grantCount(), 2);
    assert.ok(f.mock.requests().some((r) => r.path.endsWith('/oauth2/v2.0/authorize') && r.status === 302));
    assert.equal((await control('reset')).status, 204);
    const after = await stats();
    assert.equal(after.grants.client_credentials, 0);
    assert.equal(after.endSessionCalls, 0);
    assert.deepEqual(f.mock.requests(), []);
  });

  it('queues and clears failures', async () => {
    assert.equal(
      (await control('fail', { kind: 'status', status: 502, grant: 'client_credentials', times: 1 })).status,
      204,
    );
    assert.equal((await cc()).status, 502);
    assert.equal((await cc()).status, 200);
    await control('fail', { kind: 'invalid_grant' });
    assert.equal((await cc()).body.error, 'invalid_grant');
    assert.equal((await control('clear-failures')).status, 204);
    assert.equal((await cc()).status, 200);
  });

  it('refuses malformed control bodies', async () => {
    assert.equal((await control('fail', { kind: 'explode' })).status, 400);
    const notJson = await fetch(`${f.mock.url}/_mock/fail`, { method: 'POST', body: '{' });
    assert.equal(notJson.status, 400);
    assert.equal((await control('lifetimes', { accessToken: -1 })).status, 400);
    assert.equal((await control('unknown')).status, 404);
  });

  it('changes lifetimes', async () => {
    assert.equal((await control('lifetimes', { accessToken: 120 })).status, 204);
    assert.equal((await cc()).body.expires_in, 120);
    f.mock.setLifetimes({ accessToken: 3600 });
    assert.equal((await cc()).body.expires_in, 3600);
  });

  it('rotates the key and removes old keys', async () => {
    const jwksUrl = `${f.mock.url}/${f.mock.tenantId}/discovery/v2.0/keys`;
    const kids = async () =>
      ((await (await fetch(jwksUrl)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    const old = f.mock.signingKey().kid;
    assert.equal((await control('rotate-key')).status, 204);
    assert.notEqual(f.mock.signingKey().kid, old);
    assert.equal((await kids()).length, 2);
    assert.equal((await control('remove-old-keys')).status, 204);
    assert.deepEqual(await kids(), [f.mock.signingKey().kid]);
  });

  it('revokes refresh tokens', async () => {
    const login = await loginForTokens(f);
    assert.equal((await control('revoke-refresh-tokens')).status, 204);
    const res = await postToken(f.mock, {
      grant_type: 'refresh_token',
      refresh_token: String(login.body.refresh_token),
      ...(await webAuth(f)),
    });
    assert.deepEqual(res.body.error_codes, [50173]);
  });
});

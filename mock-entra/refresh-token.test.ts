import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { API, decodePart, loginForTokens, postToken, SECRET_APP, startFixture, webAuth, WEB } from './test-fixtures.js';
import type { Fixture } from './test-fixtures.js';

describe('refresh token grant', () => {
  let f: Fixture;
  let now = Date.UTC(2030, 5, 1, 8, 0, 0);
  before(async () => {
    f = await startFixture({ clock: () => now });
  });
  after(() => f.mock.close());

  async function refresh(token: unknown, extra: Record<string, string> = {}) {
    return postToken(f.mock, {
      grant_type: 'refresh_token',
      refresh_token: String(token),
      ...(await webAuth(f)),
      ...extra,
    });
  }

  it('rolls: a new refresh token each time, the old one still works, the id_token keeps the session', async () => {
    const login = await loginForTokens(f);
    const firstId = decodePart(login.body.id_token, 1);
    f.mock.resetCounters();

    now += 60_000;
    const first = await refresh(login.body.refresh_token);
    assert.equal(first.status, 200);
    assert.equal(typeof first.body.refresh_token, 'string');
    assert.notEqual(first.body.refresh_token, login.body.refresh_token);
    const id = decodePart(first.body.id_token, 1);
    for (const claim of ['sub', 'tid', 'sid', 'oid', 'aud', 'iss']) assert.equal(id[claim], firstId[claim], claim);
    assert.equal(id.iat, (firstId.iat as number) + 60);
    assert.equal('nonce' in id, false);
    const at = decodePart(first.body.access_token, 1);
    assert.equal(at.aud, WEB.clientId);
    assert.equal(at.sid, login.sessionState);
    assert.equal(at.scp, 'defaultaccess');

    const old = await refresh(login.body.refresh_token);
    assert.equal(old.status, 200, 'Entra does not revoke the previous refresh token');
    const next = await refresh(first.body.refresh_token);
    assert.equal(next.status, 200);
    assert.equal(f.mock.grantCount('refresh_token'), 3);
    assert.equal(f.mock.grantCount(), 3);
  });

  it('can address another pre-authorized resource with scope', async () => {
    const login = await loginForTokens(f);
    const res = await refresh(login.body.refresh_token, { scope: `api://${API.name.split(':').join('.')}/.default` });
    assert.equal(res.status, 200);
    assert.equal(decodePart(res.body.access_token, 1).aud, API.clientId);
  });

  it('refuses revoked refresh tokens, per user or all', async () => {
    const login = await loginForTokens(f);
    f.mock.revokeRefreshTokens('00000000-0000-4000-a000-000000000000');
    assert.equal((await refresh(login.body.refresh_token)).status, 200, 'other users are not affected');
    f.mock.revokeRefreshTokens(f.mock.users[0]!.oid);
    const revoked = await refresh(login.body.refresh_token);
    assert.equal(revoked.status, 400);
    assert.equal(revoked.body.error, 'invalid_grant');
    assert.deepEqual(revoked.body.error_codes, [50173]);
    const fresh = await loginForTokens(f);
    assert.equal((await refresh(fresh.body.refresh_token)).status, 200, 'tokens issued after revocation work');
    f.mock.revokeRefreshTokens();
    assert.equal((await refresh(fresh.body.refresh_token)).body.error, 'invalid_grant');
  });

  it('refuses unknown tokens and tokens of another client', async () => {
    const unknown = await refresh('1.Anot-a-token');
    assert.equal(unknown.body.error, 'invalid_grant');
    const login = await loginForTokens(f);
    const other = await postToken(f.mock, {
      grant_type: 'refresh_token',
      refresh_token: String(login.body.refresh_token),
      client_id: SECRET_APP.clientId,
      client_secret: SECRET_APP.secret,
    });
    assert.equal(other.body.error, 'invalid_grant');
    assert.deepEqual(other.body.error_codes, [70000]);
  });

  it('expires refresh tokens after 90 days', async () => {
    const login = await loginForTokens(f);
    now += 91 * 24 * 3600 * 1000;
    const res = await refresh(login.body.refresh_token);
    assert.equal(res.body.error, 'invalid_grant');
    assert.deepEqual(res.body.error_codes, [700082]);
  });
});

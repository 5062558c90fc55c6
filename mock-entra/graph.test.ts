import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GRAPH_APP_ID } from './scopes.js';
import { postToken, startFixture, webAuth } from './test-fixtures.js';
import type { Fixture } from './test-fixtures.js';
import { MOCK_GROUPS } from './users.js';

describe('the Microsoft Graph stand-in (groups overage)', () => {
  let f: Fixture;
  let appToken: string;
  before(async () => {
    f = await startFixture();
    const res = await postToken(f.mock, {
      grant_type: 'client_credentials',
      scope: 'https://graph.microsoft.com/.default',
      ...(await webAuth(f)),
    });
    assert.equal(res.status, 200);
    appToken = String(res.body.access_token);
    const roles = (JSON.parse(Buffer.from(appToken.split('.')[1] ?? '', 'base64url').toString()) as { roles?: unknown })
      .roles;
    assert.deepEqual(roles, ['GroupMember.Read.All'], "a Graph app token carries Graph's permissions");
  });
  after(() => f.mock.close());

  const user = (name: string) => {
    const u = f.mock.users.find((x) => x.username.startsWith(name));
    assert.ok(u, name);
    return u;
  };
  const call = (oid: string, body: unknown, token = appToken, op = 'checkMemberGroups') =>
    fetch(`${f.mock.graphUrl}/v1.0/users/${oid}/${op}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('checkMemberGroups answers the asked-about groups the user is in; getMemberObjects all of them', async () => {
    const mange = user('mange.grupper');
    const asked = [MOCK_GROUPS.saksbehandler, MOCK_GROUPS.veileder];
    const res = await call(mange.oid, { groupIds: asked });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { value: [MOCK_GROUPS.saksbehandler] });
    const all = await call(mange.oid, { securityEnabledOnly: false }, appToken, 'getMemberObjects');
    assert.deepEqual(await all.json(), { value: mange.groups });
  });

  it("the overage user's tokens carry the marker instead of groups", async () => {
    const token = await f.mock.mintAccessToken({ audience: 'x', user: user('mange.grupper') });
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<
      string,
      unknown
    >;
    assert.equal('groups' in claims, false);
    assert.deepEqual(claims._claim_names, { groups: 'src1' });
  });

  it('refuses a user token (403), a foreign or missing token (401), an unknown user (404), > 20 ids (400)', async () => {
    const kari = user('kari');
    const userToken = await f.mock.mintAccessToken({ audience: '00000003-0000-0000-c000-000000000000', user: kari });
    assert.equal((await call(kari.oid, { groupIds: [] }, userToken)).status, 403);
    // An app token for Graph without GroupMember.Read.All (or wider) granted: Graph refuses it too.
    const unconsented = await f.mock.mintAccessToken({ audience: GRAPH_APP_ID, appClientId: 'x' });
    assert.equal((await call(kari.oid, { groupIds: [] }, unconsented)).status, 403);
    const forApi = await f.mock.mintAccessToken({ audience: 'x', appClientId: 'x' });
    assert.equal((await call(kari.oid, { groupIds: [] }, forApi)).status, 401);
    assert.equal((await call(kari.oid, { groupIds: [] }, 'garbage')).status, 401);
    assert.equal((await call('00000000-0000-4000-8000-000000000000', { groupIds: [] })).status, 404);
    assert.equal(
      (await call(kari.oid, { groupIds: Array.from({ length: 21 }, () => MOCK_GROUPS.veileder) })).status,
      400,
    );
  });

  it('graph_down answers 503 as many times as asked', async () => {
    f.mock.fail({ kind: 'graph_down', times: 1 });
    const kari = user('kari');
    assert.equal((await call(kari.oid, { groupIds: [] })).status, 503);
    assert.equal((await call(kari.oid, { groupIds: [] })).status, 200);
  });
});

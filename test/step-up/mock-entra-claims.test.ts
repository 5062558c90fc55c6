/**
 * The mock Entra ID honours the `claims` request parameter as far as step-up needs: the `acrs` a login asked for
 * are in its access and ID tokens, and stay there after a refresh; `xms_cc` (client capabilities) is in the
 * access token; a malformed claims request is refused at authorize, as Entra does.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  authorizeParams,
  authorizeUrl,
  decodePart,
  loginForTokens,
  pkce,
  postToken,
  startFixture,
  webAuth,
  type Fixture,
} from '../../mock-entra/test-fixtures.js';

describe('mock Entra ID: the claims request parameter', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture();
  });
  after(() => f.mock.close());

  it('puts the requested acrs into the access and ID tokens, and keeps them through refresh', async () => {
    const claims = '{"access_token":{"acrs":{"essential":true,"value":"c1"},"xms_cc":{"values":["cp1"]}}}';
    const login = await loginForTokens(f, { claims });
    assert.equal(login.status, 200);
    const at = decodePart(login.body.access_token, 1);
    assert.deepEqual(at.acrs, ['c1']);
    assert.deepEqual(at.xms_cc, ['cp1']);
    assert.deepEqual(decodePart(login.body.id_token, 1).acrs, ['c1']);

    const refreshed = await postToken(f.mock, {
      grant_type: 'refresh_token',
      refresh_token: String(login.body.refresh_token),
      ...(await webAuth(f)),
    });
    assert.equal(refreshed.status, 200);
    assert.deepEqual(decodePart(refreshed.body.access_token, 1).acrs, ['c1']);
    assert.deepEqual(decodePart(refreshed.body.access_token, 1).xms_cc, ['cp1']);
    assert.deepEqual(decodePart(refreshed.body.id_token, 1).acrs, ['c1']);
  });

  it('without a claims request the tokens carry no acrs nor xms_cc', async () => {
    const login = await loginForTokens(f);
    const at = decodePart(login.body.access_token, 1);
    assert.equal('acrs' in at, false);
    assert.equal('xms_cc' in at, false);
    assert.equal('acrs' in decodePart(login.body.id_token, 1), false);
  });

  it('values (several contexts, in id_token too) are all granted', async () => {
    const claims = '{"id_token":{"acrs":{"essential":true,"values":["c2","c3"]}}}';
    const login = await loginForTokens(f, { claims });
    assert.deepEqual(decodePart(login.body.access_token, 1).acrs, ['c2', 'c3']);
    assert.deepEqual(decodePart(login.body.id_token, 1).acrs, ['c2', 'c3']);
  });

  it('refuses a claims parameter that is not a JSON object with object members', async () => {
    for (const claims of ['{not json', '[1]', '{"access_token":"c1"}', '{"access_token":{"acrs":{"value":1}}}']) {
      const params = new URLSearchParams(authorizeParams(pkce().challenge, { claims }));
      const res = await fetch(`${authorizeUrl(f.mock)}?${params.toString()}`, { redirect: 'manual' });
      assert.equal(res.status, 400, claims);
      assert.match(await res.text(), /AADSTS90100/, claims);
    }
  });
});

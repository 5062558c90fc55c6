import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness } from './harness.js';
import { bearer, clientCredentials, tokenApi } from './idp-steps.js';
import { loggedIn } from './mock-login.js';

describe('IdP step helpers', () => {
  let h: Harness;
  let api: Awaited<ReturnType<typeof tokenApi>>;
  before(async () => {
    h = await startHarness({ logLevel: 'silent' });
    api = tokenApi(h);
  });
  after(async () => {
    await h.close();
  });

  it('bearer: the Authorization header the app saw, a token for a session and nothing without one', async () => {
    const { cookie } = await loggedIn(h);
    assert.match((await bearer(h, cookie)) ?? '', /^Bearer eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.equal(await bearer(h, 'vestibule.session=not-a-session'), undefined);
    assert.equal(await bearer(h, ''), undefined);
  });

  it('tokenApi: a token API on a free loopback port; clientCredentials gets the app its own token there', async () => {
    assert.match(api.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const grants = h.mock.grantCount('client_credentials');
    const first = await clientCredentials(api.url);
    assert.equal(first.status, 200);
    assert.equal(first.body.token_type, 'Bearer');
    assert.match(String(first.body.access_token), /^eyJ/);
    assert.equal(typeof first.body.expires_in, 'number');
    await clientCredentials(api.url);
    assert.equal(h.mock.grantCount('client_credentials'), grants + 2, 'skip_cache: each call asks the IdP');
  });

  it('clientCredentials reports the status and body of a refusal', async () => {
    h.mock.fail({ kind: 'status', status: 503, grant: 'client_credentials', times: 1 });
    const down = await clientCredentials(api.url);
    assert.equal(down.status, 500);
    assert.equal(down.body.error, 'server_error');
  });
});

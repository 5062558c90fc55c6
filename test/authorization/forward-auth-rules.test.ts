// Issue 17 behind an ingress: the forward-auth listener judges the protected-path rules on the guarded request's
// path (X-Original-URI) and the session's token, with the proxy's one decision.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MOCK_GROUPS } from '../../mock-entra/users.js';
import { freePort } from '../support/free-port.js';
import { startHarness, type Harness } from '../support/harness.js';
import { TestClient } from '../support/http-client.js';
import { loggedIn } from '../support/mock-login.js';

const C1 = JSON.stringify({ access_token: { acrs: { essential: true, value: 'c1' } } });

describe('forward-auth with protected-path rules', () => {
  let h: Harness;
  let fa: string;
  before(async () => {
    const port = await freePort();
    fa = `http://127.0.0.1:${port}/oauth2/session/forwardauth`;
    h = await startHarness({
      logLevel: 'warn',
      env: {
        VESTIBULE_FORWARD_AUTH: 'true',
        VESTIBULE_FORWARD_AUTH_BIND_ADDRESS: `127.0.0.1:${port}`,
        VESTIBULE_REQUIRE_TOKEN_PATHS: `/cases/** groups=${MOCK_GROUPS.saksbehandler},/secure/** acrs=c1`,
      },
    });
  });
  after(() => h.close());

  const ask = (cookie: string, originalUri?: string) =>
    new TestClient().get(fa, { cookie, ...(originalUri === undefined ? {} : { 'x-original-uri': originalUri }) });

  it('a member passes (204 with the token), a non-member gets 403 at the ingress', async () => {
    const kari = await loggedIn(h, { username: 'kari.nordmann@nav.example' });
    const ok = await ask(kari.cookie, '/cases/7?tab=notes');
    assert.equal(ok.status, 204);
    assert.match(ok.headers.get('authorization') ?? '', /^Bearer ey/);
    const ola = await loggedIn(h, { username: 'ola.hansen@nav.example' });
    const refused = await ask(ola.cookie, '/cases/7');
    assert.equal(refused.status, 403);
    assert.equal(refused.headers.get('authorization'), null);
    assert.equal((JSON.parse(refused.body) as { error: string }).error, 'insufficient_scope');
    // Outside the rules the session alone decides.
    assert.equal((await ask(ola.cookie, '/home')).status, 204);
  });

  it('a guarded path the ingress did not name (no X-Original-URI, or not a path) is refused, never passed unjudged', async () => {
    const ola = await loggedIn(h, { username: 'ola.hansen@nav.example' });
    for (const originalUri of [undefined, '*', 'cases/7', '']) {
      const res = await ask(ola.cookie, originalUri);
      assert.equal(res.status, 400, String(originalUri));
      assert.equal(res.headers.get('authorization'), null);
      assert.match(res.body, /X-Original-URI/);
    }
  });

  it('a session without the authentication context gets 401 with the step-up login URL', async () => {
    const kari = await loggedIn(h, { username: 'kari.nordmann@nav.example' });
    const res = await ask(kari.cookie, '/secure/report');
    assert.equal(res.status, 401);
    const location = new URL(res.headers.get('location') ?? '', h.ingress);
    assert.equal(location.pathname, '/oauth2/login');
    assert.equal(location.searchParams.get('redirect'), '/secure/report');
    assert.equal(location.searchParams.get('claims'), C1);
    assert.equal((JSON.parse(res.body) as { login_url: string }).login_url, res.headers.get('location'));
  });

  it('without a session: 401 with the login URL back to the guarded path, whatever the path', async () => {
    for (const path of ['/cases/7', '/home']) {
      const res = await ask('', path);
      assert.equal(res.status, 401, path);
      const location = new URL(res.headers.get('location') ?? 'http://none/', h.ingress);
      assert.equal(location.pathname, '/oauth2/login', path);
      assert.equal(location.searchParams.get('redirect'), path);
    }
  });
});

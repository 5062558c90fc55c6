import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { FORWARD_AUTH_TOKEN_HEADER } from '../../src/routes/forward-auth-headers.js';
import { freePort } from '../support/free-port.js';
import { TestClient } from '../support/http-client.js';
import { startHarness, sharedWith, type Harness } from '../support/harness.js';
import { loggedIn } from '../support/mock-login.js';

interface Seen {
  headers: Record<string, string | undefined>;
}

async function echo(h: Harness, headers: Record<string, string>): Promise<Seen> {
  const res = await fetch(`${h.ingress}/echo/ww`, { headers });
  assert.equal(res.status, 200);
  return (await res.json()) as Seen;
}

describe('Wonderwall parity: ping, X-Wonderwall-Id-Token, forward-auth token header', () => {
  let plain: Harness;
  let withIdToken: Harness;

  before(async () => {
    plain = await startHarness();
    withIdToken = await startHarness({
      shared: sharedWith(plain),
      env: { VESTIBULE_UPSTREAM_INCLUDE_ID_TOKEN: 'true' },
    });
  });
  after(async () => {
    await withIdToken.close();
    await plain.close();
  });

  it('GET /oauth2/ping answers 200 pong (text/plain), as Wonderwall, without a session', async () => {
    const res = await fetch(`${plain.ingress}/oauth2/ping`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'pong');
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  });

  it('sends the session ID token as X-Wonderwall-Id-Token only when the setting is on; a client never sets it', async () => {
    const spoof = { 'x-wonderwall-id-token': 'forged' };
    // One session in the shared store, logged in through `plain` (the mock knows its redirect URI only).
    const on = await loggedIn(plain);
    const seen = await echo(withIdToken, { cookie: on.cookie, ...spoof });
    const idToken = seen.headers['x-wonderwall-id-token'];
    assert.ok(idToken !== undefined && idToken !== 'forged');
    const claims = decodeJwt(idToken);
    assert.equal(claims.aud, withIdToken.clientId);
    assert.equal(typeof claims.nonce, 'string', 'an ID token, not the access token');
    assert.match(seen.headers.authorization ?? '', /^Bearer /);
    // Without a session the client's header is dropped, never passed on.
    assert.equal((await echo(withIdToken, spoof)).headers['x-wonderwall-id-token'], undefined);

    const offSeen = await echo(plain, { cookie: on.cookie, ...spoof });
    assert.equal(offSeen.headers['x-wonderwall-id-token'], undefined);
    assert.match(offSeen.headers.authorization ?? '', /^Bearer /);
  });

  it('X-Wonderwall-Forward-Auth-Token carries the ID token on the forward-auth listener when asked, never publicly', async () => {
    const port = await freePort();
    const fa = await startHarness({
      shared: sharedWith(plain),
      env: {
        VESTIBULE_FORWARD_AUTH: 'true',
        VESTIBULE_FORWARD_AUTH_BIND_ADDRESS: `127.0.0.1:${port}`,
        WONDERWALL_SESSION_FORWARD_AUTH_SET_HEADERS: 'true',
      },
    });
    try {
      const { cookie } = await loggedIn(plain);
      // TestClient, not fetch: fetch sends Sec-Fetch-Mode, which the forward-auth listener refuses (403).
      const res = await new TestClient().get(`http://127.0.0.1:${port}/oauth2/session/forwardauth`, { cookie });
      assert.equal(res.status, 204);
      const idToken = res.headers.get(FORWARD_AUTH_TOKEN_HEADER);
      assert.ok(idToken !== null);
      assert.equal(typeof decodeJwt(idToken).nonce, 'string', 'the ID token, as Wonderwall sends it');
      assert.match(res.headers.get('authorization') ?? '', /^Bearer /);
      const anonymous = await new TestClient().get(`http://127.0.0.1:${port}/oauth2/session/forwardauth`);
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.headers.get(FORWARD_AUTH_TOKEN_HEADER), null);
      // The public port answers a page script too: neither token there.
      const pub = await new TestClient().get(`${fa.ingress}/oauth2/session/forwardauth`, { cookie });
      assert.equal(pub.status, 204);
      assert.equal(pub.headers.get(FORWARD_AUTH_TOKEN_HEADER), null);
    } finally {
      await fa.close();
    }
  });

  it('VESTIBULE_FORWARD_AUTH_SET_HEADERS needs VESTIBULE_FORWARD_AUTH, as Wonderwall requires', () => {
    const env = {
      AZURE_APP_CLIENT_ID: plain.clientId,
      AZURE_APP_WELL_KNOWN_URL: plain.mock.wellKnownUrl,
      AZURE_APP_JWK: plain.clientJwk,
      VESTIBULE_INGRESS: plain.ingress,
      VESTIBULE_DEVELOPMENT_MODE: 'true',
      VESTIBULE_FORWARD_AUTH_SET_HEADERS: 'true',
    };
    assert.throws(
      () => loadConfig({ ...env, VESTIBULE_FORWARD_AUTH: 'false' }),
      (err: unknown) => err instanceof ConfigError && err.message.includes('VESTIBULE_FORWARD_AUTH_SET_HEADERS'),
    );
    const config = loadConfig({ ...env, VESTIBULE_FORWARD_AUTH: 'true' });
    assert.equal(config.forwardAuthSetHeaders, true);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import { decodeJwt } from 'jose';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { FORWARD_AUTH_TOKEN_HEADER, setForwardAuthHeaders } from '../../src/routes/forward-auth-headers.js';
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

  it('setForwardAuthHeaders adds X-Wonderwall-Forward-Auth-Token with the ID token only when asked', async () => {
    const app = Fastify();
    app.get('/:mode', (request, reply) => {
      const { mode } = request.params as { mode: string };
      const idToken = mode === 'none' ? null : 'header.payload.signature';
      return setForwardAuthHeaders(reply, mode !== 'off', idToken)
        .code(204)
        .send();
    });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const on = await fetch(`${url}/on`);
      assert.equal(on.status, 204);
      assert.equal(on.headers.get(FORWARD_AUTH_TOKEN_HEADER), 'header.payload.signature');
      assert.equal((await fetch(`${url}/off`)).headers.get(FORWARD_AUTH_TOKEN_HEADER), null);
      assert.equal((await fetch(`${url}/none`)).headers.get(FORWARD_AUTH_TOKEN_HEADER), null);
    } finally {
      await app.close();
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

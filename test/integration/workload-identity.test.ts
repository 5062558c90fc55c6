import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { startHarness, type Harness } from '../support/harness.js';
import { TestClock } from '../support/clock.js';
import { NAVIGATION, TestClient } from '../support/http-client.js';
import { bearer, clientCredentials, IDP_BOUND_MS, tokenApi } from '../support/idp-steps.js';
import { login, loggedIn } from '../support/mock-login.js';
import {
  createClusterIssuer,
  createTokenFile,
  type ClusterIssuer,
  type TokenFile,
} from '../support/projected-token.js';

const HOUR = 3_600_000;
const UNREADABLE = 'The federated token file (workload identity) could not be read';

/** An on-behalf-of exchange of `userToken` for the app itself, never from the cache. */
async function exchange(url: string, userToken: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/api/v1/token/exchange`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      identity_provider: 'entra_id',
      target: 'test:team:app',
      user_token: userToken,
      skip_cache: true,
    }),
    signal: AbortSignal.timeout(IDP_BOUND_MS),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('workload identity: every grant authenticates with the projected token file, read per request', () => {
  const clock = new TestClock();
  let cluster: ClusterIssuer;
  let file: TokenFile;
  let h: Harness;
  let api: string;
  /** Every token written to the file: none may appear in a log line. */
  const written: string[] = [];

  async function rotate(o: Parameters<ClusterIssuer['mint']>[0] = {}): Promise<string> {
    const token = await cluster.mint(o);
    written.push(token);
    file.write(`${token}\n`);
    return token;
  }
  /** A token that expired an hour ago (beyond any skew), as a file the kubelet stopped rotating would hold. */
  const expired = (): Promise<string> => rotate({ issuedAt: Math.floor(Date.now() / 1000) - 7200, lifetime: 3600 });

  /** The client-authentication fields of the mock's last token request (names only; the mock keeps no values). */
  function lastTokenFields(): readonly string[] {
    const last = h.mock.requests().findLast((r) => r.path.endsWith('/oauth2/v2.0/token'));
    return last?.fields ?? [];
  }
  function assertFederatedFields(): void {
    const fields = lastTokenFields();
    assert.ok(fields.includes('client_assertion') && fields.includes('client_assertion_type'), fields.join(','));
    assert.ok(!fields.includes('client_secret'), 'no secret is sent');
  }

  before(async () => {
    cluster = await createClusterIssuer();
    file = createTokenFile();
    await rotate();
    h = await startHarness({
      now: clock.now,
      workloadIdentity: { tokenFile: file.path, issuer: cluster.trustedBy, credential: cluster.credential() },
    });
    api = tokenApi(h).url;
  });
  after(async () => {
    await h.close();
    file.close();
  });

  it('starts from the webhook variables alone: no JWK, no secret', () => {
    assert.deepEqual(h.config.clientAuth, { method: 'federated_token_file', tokenFile: file.path });
    assert.equal(h.config.wellKnownUrl, h.mock.wellKnownUrl, 'derived from AZURE_TENANT_ID + AZURE_AUTHORITY_HOST');
    assert.equal(h.config.clientId, h.clientId);
  });

  it('(1) browser login: the code is redeemed with the projected token', async () => {
    const codes = h.mock.grantCount('authorization_code');
    const { cookie } = await loggedIn(h);
    assert.equal(h.mock.grantCount('authorization_code') - codes, 1);
    assertFederatedFields();
    assert.match((await bearer(h, cookie)) ?? '', /^Bearer ey/);
  });

  it('(3) on-behalf-of and (4) client credentials through the token API, each reading the rotated file', async () => {
    const { cookie } = await loggedIn(h);
    const userToken = ((await bearer(h, cookie)) ?? '').replace(/^Bearer /, '');

    const obo = await exchange(api, userToken);
    assert.equal(obo.status, 200, JSON.stringify(obo.body));
    assert.equal(decodeJwt(String(obo.body.access_token)).azp, h.clientId);
    assertFederatedFields();
    const cc = await clientCredentials(api);
    assert.equal(cc.status, 200, JSON.stringify(cc.body));
    assert.equal(decodeJwt(String(cc.body.access_token)).idtyp, 'app');

    // A new token (new jti, another exp) is picked up by the next request…
    await rotate({ lifetime: 1800 });
    assert.equal((await clientCredentials(api)).status, 200);
    assert.equal((await exchange(api, userToken)).status, 200);

    // …and an expired one too, which proves the file is read per request, not once: Entra refuses it.
    await expired();
    for (const answer of [await clientCredentials(api), await exchange(api, userToken)]) {
      assert.equal(answer.status, 401, JSON.stringify(answer.body));
      assert.equal(answer.body.error, 'invalid_client');
      assert.match(String(answer.body.error_description), /AADSTS700024/);
    }
    await rotate();
    assert.equal((await clientCredentials(api)).status, 200, 'a fresh token works again at once');
    assert.equal((await exchange(api, userToken)).status, 200);
  });

  it('a token of an untrusted issuer fails every grant with Entra’s reason; vestibule stays up', async () => {
    const stranger = await createClusterIssuer('https://oidc.untrusted.example/');
    const token = await stranger.mint();
    written.push(token);
    file.write(token);

    const cc = await clientCredentials(api);
    assert.equal(cc.status, 401);
    assert.equal(cc.body.error, 'invalid_client');
    assert.match(String(cc.body.error_description), /AADSTS700211.*issuer 'https:\/\/oidc\.untrusted\.example\/'/);

    const browser = new TestClient();
    const { callback } = await login(h, browser);
    assert.equal(callback.status, 502, 'the login fails with its error page');
    assert.match(callback.body, /The login could not be completed/);
    assert.equal(browser.cookie('vestibule.session'), undefined);

    const admin = (h.admin.server.address() as AddressInfo).port;
    assert.equal((await fetch(`http://127.0.0.1:${admin}/healthz`)).status, 200);
    await rotate();
    assert.equal((await clientCredentials(api)).status, 200, 'back as soon as the file is right');
  });

  it('a missing file fails the grant with a clear error, never a crash; the log names the file, not a token', async () => {
    file.remove();
    const grants = h.mock.grantCount();
    const cc = await clientCredentials(api);
    assert.equal(cc.status, 500);
    assert.deepEqual(cc.body, { error: 'server_error', error_description: UNREADABLE });
    assert.equal(h.mock.grantCount(), grants, 'nothing was sent to Entra');

    const browser = new TestClient();
    const { callback } = await login(h, browser);
    assert.equal(callback.status, 502);
    const logged = h.logLines().filter((l) => JSON.stringify(l).includes('CLIENT_ASSERTION_UNAVAILABLE'));
    assert.ok(logged.length >= 1, 'the failure is logged with its code');
    assert.ok(
      logged.some((l) => JSON.stringify(l).includes(`AZURE_FEDERATED_TOKEN_FILE ${file.path} does not exist`)),
      JSON.stringify(logged),
    );

    file.write('');
    const empty = await clientCredentials(api);
    assert.equal(empty.status, 500);
    assert.equal(empty.body.error_description, UNREADABLE);
    await rotate();
    assert.equal((await clientCredentials(api)).status, 200);
  });

  it('(2) refresh: each refresh reads the file; an expired token keeps the session, the next good one refreshes', async () => {
    const { cookie } = await loggedIn(h);
    const first = await bearer(h, cookie);

    await rotate({ lifetime: 7200 });
    clock.advance(HOUR - 20_000); // 20 s left: inside the refresh margin
    const refreshes = h.mock.grantCount('refresh_token');
    const second = await bearer(h, cookie);
    assert.notEqual(second, first, 'refreshed with the rotated token');
    assert.equal(h.mock.grantCount('refresh_token') - refreshes, 1);
    assertFederatedFields();

    await expired();
    clock.advance(HOUR - 20_000);
    const kept = await bearer(h, cookie);
    assert.equal(kept, second, 'Entra refused the expired token: the current one is kept while it is valid');
    assert.equal(h.mock.grantCount('refresh_token') - refreshes, 2, 'the refresh was tried with the file as it is');

    await rotate();
    clock.advance(10_000); // past the retry back-off, still before the access token's expiry
    const third = await bearer(h, cookie);
    assert.notEqual(third, second, 'refreshed once the file holds a valid token again');
    assert.equal(h.mock.grantCount('refresh_token') - refreshes, 3);

    const res = await new TestClient().get(`${h.ingress}/oauth2/session`, { ...NAVIGATION, cookie });
    assert.equal(res.status, 200, 'the session lives on');
  });

  it('no projected token ever appears in a log line', () => {
    const logs = h.rawLogs();
    assert.ok(logs.length > 0);
    assert.ok(written.length > 0, 'the tests above wrote tokens to check for');
    for (const token of written) assert.ok(!logs.includes(token.split('.')[2]!), 'a token signature was logged');
  });
});

describe('workload identity at start-up', () => {
  it('a missing token file stops start-up before discovery, naming the variable and the path', async () => {
    const cluster = await createClusterIssuer();
    const file = createTokenFile();
    try {
      await assert.rejects(
        startHarness({
          workloadIdentity: { tokenFile: file.path, issuer: cluster.trustedBy, credential: cluster.credential() },
        }),
        (err: Error) => {
          assert.equal((err as { code?: string }).code, 'CONFIG_INVALID');
          assert.match(err.message, new RegExp(`AZURE_FEDERATED_TOKEN_FILE ${file.path} does not exist`));
          return true;
        },
      );
    } finally {
      file.close();
    }
  });
});

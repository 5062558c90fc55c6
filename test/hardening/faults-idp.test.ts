import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { TestClock } from '../support/clock.js';
import { startHarness, type Harness } from '../support/harness.js';
import { NAVIGATION, TestClient } from '../support/http-client.js';
import { loggedIn, login, untilCallback } from '../support/mock-login.js';
import { boundedGet } from '../support/bounded-get.js';
import { bearer, clientCredentials, IDP_BOUND_MS, tokenApi } from '../support/idp-steps.js';

// The identity provider failing during login, refresh and token-API calls (mock-entra's scripted failures on
// its token endpoint): clear errors, bounded waits (the IdP client times out after 10 s), and the current
// access token kept while it is valid. test/integration/session-lifecycle.test.ts covers one 503 on refresh;
// faults-idp-timeout.test.ts covers an IdP slower than the client's timeout.

const HOUR = 3_600_000;

describe('IdP failures answered at once', () => {
  let h: Harness;
  let api: { app: FastifyInstance; url: string };
  before(async () => {
    h = await startHarness({ logLevel: 'silent' });
    api = tokenApi(h);
  });
  after(async () => {
    await h.close();
  });

  it('token endpoint down (503) or refusing (500, 429) during login: an error page with a retry link, no session; the next login works', async () => {
    for (const status of [503, 500, 429]) {
      const browser = new TestClient();
      const callback = await untilCallback(h, browser);
      h.mock.fail({ kind: 'status', status, grant: 'authorization_code', times: 1 });
      const res = await browser.get(callback, NAVIGATION);
      assert.ok(res.status === 502 || res.status === 503, `${status} → ${res.status}`);
      assert.match(res.headers.get('content-type') ?? '', /text\/html/);
      assert.match(res.body, /href="\/oauth2\/login/);
      assert.equal(browser.cookie('vestibule.session'), undefined);
    }
    const { callback } = await login(h, new TestClient());
    assert.equal(callback.status, 302, 'a new login succeeds once the IdP answers');
  });

  it('token API with the IdP down: 500 server_error without internals (Texas contract), then served again', async () => {
    assert.equal((await clientCredentials(api.url)).status, 200, 'control');
    h.mock.fail({ kind: 'status', status: 503, grant: 'client_credentials', times: 1 });
    const down = await clientCredentials(api.url);
    assert.equal(down.status, 500);
    assert.deepEqual(down.body, {
      error: 'server_error',
      error_description: 'The identity provider could not be reached',
    });
    assert.equal((await clientCredentials(api.url)).status, 200);
  });

  it('IdP slow (2 s) during login: the login completes, and other requests are served meanwhile', async () => {
    const browser = new TestClient();
    const callbackUrl = await untilCallback(h, browser);
    h.mock.fail({ kind: 'delay', ms: 2000, grant: 'authorization_code', times: 1 });
    let loginDone = false;
    const slow = browser.get(callbackUrl, NAVIGATION).then((r) => ((loginDone = true), r));
    for (let i = 0; i < 5; i++) {
      const a = await boundedGet(`${h.ingress}/echo/meanwhile`, {}, 1500);
      assert.equal(a.status, 200);
    }
    assert.equal(loginDone, false, 'five requests were served while the login waited for the IdP');
    const res = await slow;
    assert.equal(res.status, 302);
    assert.ok(browser.cookie('vestibule.session'));
  });
});

describe('IdP down or slow during refresh', () => {
  const clock = new TestClock();
  let h: Harness;
  before(async () => {
    h = await startHarness({ logLevel: 'silent', now: clock.now });
  });
  after(() => h.close());

  it('the current token is kept while valid, the refresh endpoint answers 503 + Retry-After, and an expired token is never forwarded', async () => {
    const { cookie } = await loggedIn(h);
    const first = await bearer(h, cookie);
    clock.advance(HOUR - 20_000);
    h.mock.fail({ kind: 'status', status: 503, grant: 'refresh_token' });
    assert.equal(await bearer(h, cookie), first, 'kept while valid');
    const refresh = await boundedGet(`${h.ingress}/oauth2/session/refresh`, { cookie }, 3000);
    assert.equal(refresh.status, 503);
    assert.equal(refresh.headers['retry-after'], '5');
    clock.advance(30_000); // past expiry, IdP still down
    assert.equal(await bearer(h, cookie), undefined, 'an expired token is not forwarded');
    const meta = await boundedGet(`${h.ingress}/oauth2/session`, { cookie }, 3000);
    assert.equal(meta.status, 200, 'the session itself lives on');
    h.mock.clearFailures();
    clock.advance(10_000); // past the retry back-off
    const after = await bearer(h, cookie);
    assert.match(after ?? '', /^Bearer ey/);
    assert.notEqual(after, first, 'refreshed once the IdP is back');
  });
});

describe('IdP process gone (connection refused)', () => {
  const clock = new TestClock();
  let h: Harness;
  let api: { app: FastifyInstance; url: string };
  let cookie: string;
  let pending: TestClient;
  let pendingCallback: URL;
  let token: string | undefined;
  before(async () => {
    h = await startHarness({ logLevel: 'silent', now: clock.now });
    api = tokenApi(h);
    ({ cookie } = await loggedIn(h));
    token = await bearer(h, cookie);
    pending = new TestClient();
    pendingCallback = await untilCallback(h, pending);
    await h.mock.close();
  });
  after(async () => {
    // The harness closes the mock too, which is already closed: close the rest by hand when that throws.
    await h.close().catch(async () => {
      await h.upstream.close();
      await h.redis.close();
    });
  });

  it('a login completing now gets the 503 "could not be reached, try again" page', async () => {
    const res = await boundedGet(
      pendingCallback.href,
      { ...NAVIGATION, cookie: pending.cookieHeader(pendingCallback) ?? '' },
      IDP_BOUND_MS,
    );
    assert.equal(res.status, 503);
    assert.match(res.body, /could not be reached/);
  });

  it('sessions keep working on their current tokens; a due refresh keeps them, answered within the bound', async () => {
    assert.equal(await bearer(h, cookie), token);
    clock.advance(HOUR - 20_000);
    assert.equal(await bearer(h, cookie, IDP_BOUND_MS), token, 'refresh failed, the still-valid token is kept');
  });

  it('the token API answers 500 server_error "could not be reached" at once', async () => {
    const res = await clientCredentials(api.url);
    assert.equal(res.status, 500);
    assert.deepEqual(res.body, {
      error: 'server_error',
      error_description: 'The identity provider could not be reached',
    });
  });
});

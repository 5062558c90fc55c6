import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { TestClock } from '../support/clock.js';
import { startHarness, type Harness } from '../support/harness.js';
import { NAVIGATION, TestClient } from '../support/http-client.js';
import { loggedIn, untilCallback } from '../support/mock-login.js';
import { boundedGet } from '../support/bounded-get.js';
import { bearer, clientCredentials, IDP_BOUND_MS, tokenApi } from '../support/idp-steps.js';

// An identity provider slower than vestibule's 10 s client timeout (mock-entra's scripted delay of 11 s) during
// login, refresh and a token-API call. The three run concurrently so the file costs one timeout, not three.

const HOUR = 3_600_000;

/** What the timed-out calls answered (filled by the concurrent suite, checked by the one after it). */
const timedOut: { login?: { status: number; body: string }; token?: Record<string, unknown> } = {};

describe('IdP slower than the client timeout (scenarios run concurrently)', { concurrency: true }, () => {
  const clock = new TestClock();
  /** What the timed-out calls answered, for the classification checks that follow. */

  let h: Harness;
  let r: Harness;
  let api: { app: FastifyInstance; url: string };
  before(async () => {
    h = await startHarness({ logLevel: 'silent' });
    r = await startHarness({ logLevel: 'silent', now: clock.now });
    api = tokenApi(h);
  });
  after(async () => {
    await Promise.all([h.close(), r.close()]);
  });

  it('login: the callback gives up within the bound with an error page and no session', async () => {
    const browser = new TestClient();
    const callbackUrl = await untilCallback(h, browser);
    h.mock.fail({ kind: 'delay', ms: 11_000, grant: 'authorization_code', times: 1 });
    const res = await boundedGet(
      callbackUrl.href,
      { ...NAVIGATION, cookie: browser.cookieHeader(callbackUrl) ?? '' },
      IDP_BOUND_MS,
    );
    assert.ok(res.status === 502 || res.status === 503, String(res.status));
    timedOut.login = res;
    assert.match(res.body, /href="\/oauth2\/login/);
    assert.doesNotMatch(String(res.headers['set-cookie'] ?? ''), /vestibule\.session=[^;]/);
  });

  it('refresh: the request goes on with the still-valid token within the bound', async () => {
    const { cookie } = await loggedIn(r);
    const first = await bearer(r, cookie);
    clock.advance(HOUR - 20_000);
    r.mock.fail({ kind: 'delay', ms: 11_000, grant: 'refresh_token', times: 1 });
    assert.equal(await bearer(r, cookie, IDP_BOUND_MS), first);
  });

  it('token API: 500 server_error within the bound', async () => {
    h.mock.fail({ kind: 'delay', ms: 11_000, grant: 'client_credentials', times: 1 });
    const res = await clientCredentials(api.url);
    assert.equal(res.status, 500);
    assert.equal(res.body.error, 'server_error');
    timedOut.token = res.body;
  });
});

describe('a timed-out IdP call is reported as "could not be reached", like a refused one', () => {
  it('login: the 503 "try again" page', () => {
    assert.equal(timedOut.login?.status, 503);
    assert.match(timedOut.login.body, /could not be reached/);
  });
  it('token API: error_description names the IdP, not "internal error"', () => {
    assert.equal(timedOut.token?.error_description, 'The identity provider could not be reached');
  });
});

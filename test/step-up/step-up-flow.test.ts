/**
 * Step-up end to end over HTTP: vestibule in front of an app that answers `insufficient_claims` until the token
 * carries the authentication context `c1`, against the mock Entra ID and a real Redis. The app's challenge
 * becomes a fresh login asking Entra for exactly those claims (plus the declared `cp1`), whose token satisfies
 * it, also after a refresh; a fetch gets 401 JSON with `login_url`; an app a fresh login cannot satisfy gets no
 * second round (403); nothing else of the app's 401s changes. Also `acr_values` from
 * WONDERWALL_OPENID_ACR_VALUES and `?level=`, and the login's refusal of claims requests it would not send.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { NAVIGATION, TestClient } from '../support/http-client.js';
import { loggedIn, login, startLogin } from '../support/mock-login.js';
import { TestClock } from '../support/clock.js';
import { startHarness, type Harness } from '../support/harness.js';
import { C1_CLAIMS, startChallengeApp, type ChallengeApp } from './challenge-app.js';

const FETCH = { accept: 'application/json', 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty' };
const C1_WITH_CP1 = { access_token: { acrs: { essential: true, value: 'c1' }, xms_cc: { values: ['cp1'] } } };

describe('step-up: claims challenges and the claims request', { timeout: 60_000 }, () => {
  let app: ChallengeApp;
  let h: Harness;
  const clock = new TestClock();
  before(async () => {
    app = await startChallengeApp();
    h = await startHarness({
      now: clock.now,
      env: {
        VESTIBULE_UPSTREAM: app.url,
        VESTIBULE_CLIENT_CAPABILITIES: 'cp1',
        WONDERWALL_OPENID_ACR_VALUES: 'urn:mock:pwd',
      },
    });
    await app.trust(h.mock.wellKnownUrl);
  });
  after(async () => {
    await h.close();
    await app.close();
  });

  const stepUpLogin = (redirect: string, claims = C1_CLAIMS): string =>
    `${h.ingress}/oauth2/login?redirect=${encodeURIComponent(redirect)}&claims=${encodeURIComponent(claims)}`;

  it('a navigation the app challenges goes through login with exactly those claims, and lands with a token that satisfies them, also after a refresh', async () => {
    const { browser, cookie } = await loggedIn(h);
    const challenged = await browser.get(`${h.ingress}/step-up/report?x=1`, NAVIGATION);
    assert.equal(challenged.status, 302, challenged.body);
    assert.equal(challenged.location, stepUpLogin('/step-up/report?x=1'));
    assert.equal(challenged.headers.get('cache-control'), 'no-store');
    assert.equal(challenged.headers.get('www-authenticate'), null, "the app's answer is not passed on");

    const query = new URL(challenged.location).search.slice(1);
    const { callback, authorizeUrl } = await login(h, browser, { query });
    assert.deepEqual(JSON.parse(authorizeUrl.searchParams.get('claims') ?? ''), C1_WITH_CP1);
    assert.equal(authorizeUrl.searchParams.get('acr_values'), 'urn:mock:pwd');
    assert.equal(h.mock.lastAuthorizeParams()?.claims, authorizeUrl.searchParams.get('claims'), 'sent to Entra');
    assert.equal(callback.status, 302, callback.body);
    assert.equal(callback.location, `${h.ingress}/step-up/report?x=1`);
    assert.notEqual(`vestibule.session=${browser.cookie('vestibule.session')}`, cookie, 'a new session');
    const stepUp = browser.cookies().find((c) => c.name === 'vestibule.stepup');
    assert.equal(stepUp?.path, '/oauth2/login', 'the step-up memory is sent to the login path only');

    const landed = await browser.get(callback.location, { accept: 'application/json' });
    assert.equal(landed.status, 200, landed.body);
    assert.deepEqual(JSON.parse(landed.body), { acrs: 'c1', xms_cc: 'cp1' });

    clock.advance(61_000); // past the refresh cooldown
    const refreshes = h.mock.grantCount('refresh_token');
    const refreshed = await browser.request(`${h.ingress}/oauth2/session/refresh`, { method: 'POST' });
    assert.equal(refreshed.status, 200, refreshed.body);
    assert.equal(h.mock.grantCount('refresh_token'), refreshes + 1);
    const after = await browser.get(`${h.ingress}/api/step-up`, FETCH);
    assert.equal(after.status, 200, after.body);
    assert.deepEqual(JSON.parse(after.body), { acrs: 'c1', xms_cc: 'cp1' });
    assert.ok(!h.rawLogs().includes(browser.cookie('vestibule.session') ?? '-'), 'no cookie value in any log line');
  });

  it('a fetch the app challenges gets 401 JSON whose login_url steps up and returns to the calling page', async () => {
    const { browser } = await loggedIn(h);
    const res = await browser.get(`${h.ingress}/api/step-up`, { ...FETCH, referer: `${h.ingress}/dashboard?tab=2` });
    assert.equal(res.status, 401, res.body);
    const body = JSON.parse(res.body) as Record<string, string>;
    const loginUrl = `/oauth2/login?redirect=${encodeURIComponent('/dashboard?tab=2')}&claims=${encodeURIComponent(C1_CLAIMS)}`;
    assert.deepEqual(body, {
      error: 'insufficient_claims',
      error_description: 'this page requires a stronger sign-in, please log in again',
      login_url: loginUrl,
    });
    assert.equal(res.headers.get('location'), loginUrl);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const foreign = await browser.get(`${h.ingress}/api/step-up`, { ...FETCH, referer: 'https://evil.example/x' });
    assert.equal(
      (JSON.parse(foreign.body) as { login_url: string }).login_url.split('&')[0],
      '/oauth2/login?redirect=%2F',
    );
  });

  it('an app a fresh login cannot satisfy gets one step-up round, then 403 instead of a loop', async () => {
    const { browser } = await loggedIn(h);
    const first = await browser.get(`${h.ingress}/always/x`, NAVIGATION);
    assert.equal(first.location, stepUpLogin('/always/x'));
    const { callback } = await login(h, browser, { query: new URL(first.location).search.slice(1) });
    assert.equal(callback.status, 302);
    const again = await browser.get(callback.location ?? '', NAVIGATION);
    assert.equal(again.location, stepUpLogin('/always/x'), 'the app still challenges');
    const authorizes = h.mock.requests().filter((r) => r.path.endsWith('/authorize')).length;
    const stopped = await browser.get(again.location, NAVIGATION);
    assert.equal(stopped.status, 403, stopped.body);
    assert.match(stopped.body, /Additional sign-in did not help/);
    assert.equal(stopped.location, undefined);
    assert.equal(h.mock.requests().filter((r) => r.path.endsWith('/authorize')).length, authorizes);
    // Other claims (another context) are still a step-up of their own.
    const other = await startLogin(h, browser, {
      query: `redirect=%2F&claims=${encodeURIComponent('{"access_token":{"acrs":{"essential":true,"value":"c2"}}}')}`,
    });
    assert.ok(other.href.startsWith(h.mock.url));
  });

  it('the step-up memory counts only for the session whose step-up login made it: forged, moved or tampered values are no memory', async () => {
    // A genuine memory: a logged-in browser completes a step-up login the app is not satisfied by.
    const { browser: own } = await loggedIn(h);
    const { callback } = await login(h, own, { query: new URL(stepUpLogin('/always/x')).search.slice(1) });
    assert.equal(callback.status, 302, callback.body);
    const genuine = own.cookie('vestibule.stepup') ?? '';
    const [print = '', at = ''] = genuine.split('.');
    assert.match(print, /^[A-Za-z0-9_-]{22}$/);
    const origin = new URL(h.ingress).origin;
    const plant = (b: TestClient, value: string): void =>
      b.setCookie(origin, 'vestibule.stepup', value, '/oauth2/login');
    // What /oauth2/login answers each browser asking for the same claims again: 302 (on to Entra) or 403.
    const status = async (b: TestClient, headers: Record<string, string> = {}): Promise<number> =>
      (await b.get(stepUpLogin('/always/x'), { ...NAVIGATION, ...headers })).status;
    const seen: Record<string, number> = {};

    // Positive control: the browser that stepped up, with its own session, is answered 403.
    seen.genuine = await status(own);

    // Forged by anyone who knows the (public) claims request: the fingerprint and a fresh time, with no or a bad MAC.
    const { browser: victim } = await loggedIn(h);
    const fresh = String(Math.floor(clock.now() / 1000));
    const forgeries = {
      noMac: `${print}.${fresh}`,
      emptyMac: `${print}.${fresh}.`,
      badMac: `${print}.${fresh}.${'A'.repeat(22)}`,
    };
    for (const [what, forged] of Object.entries(forgeries)) {
      plant(victim, forged);
      seen[what] = await status(victim);
    }
    // Made for another session: the genuine value moved into a browser with a session of its own, or with none.
    plant(victim, genuine);
    seen.otherSession = await status(victim);
    const anonymous = new TestClient();
    plant(anonymous, genuine);
    seen.noSession = await status(anonymous);
    // Tampered: the genuine value with another (still fresh) time, back in the browser it was made for.
    const tampered = genuine.split('.');
    tampered[1] = String(Number(at) - 1);
    plant(own, tampered.join('.'));
    seen.tamperedTime = await status(own);
    // A planted value beside the genuine one does not hide it.
    const session = `vestibule.session=${own.cookie('vestibule.session') ?? ''}`;
    seen.plantedBeside = await status(own, {
      cookie: `${session}; vestibule.stepup=${forgeries.badMac}; vestibule.stepup=${genuine}`,
    });

    assert.deepEqual(seen, {
      genuine: 403,
      noMac: 302,
      emptyMac: 302,
      badMac: 302,
      otherSession: 302,
      noSession: 302,
      tamperedTime: 302,
      plantedBeside: 403,
    });
  });

  it('every other 401 of the app passes on as it was sent', async () => {
    const { browser } = await loggedIn(h);
    const invalid = await browser.get(`${h.ingress}/invalid-token`, NAVIGATION);
    assert.equal(invalid.status, 401);
    assert.equal(invalid.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
    const odd = await browser.get(`${h.ingress}/odd-claims`, NAVIGATION);
    assert.equal(odd.status, 401, 'a challenge asking for claims vestibule would not send is not turned into a login');
    assert.match(odd.headers.get('www-authenticate') ?? '', /insufficient_claims/);
    // No session: the challenge is about the client's own token, not one vestibule sent.
    const own = await h.mock.mintAccessToken({ audience: h.clientId });
    const res = await new TestClient().get(`${h.ingress}/always/x`, { ...NAVIGATION, authorization: `Bearer ${own}` });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /error="insufficient_claims", claims="/);
  });

  it('/oauth2/login refuses claims requests it would not send (400), before any cookie or redirect', async () => {
    const bad = [
      'not json',
      '[]',
      '{"userinfo":{"acrs":null}}',
      '{"access_token":{"groups":{"essential":true}}}',
      `{"access_token":{"acrs":{"value":"${'c'.repeat(2100)}"}}}`,
    ];
    for (const claims of bad) {
      const res = await new TestClient().get(stepUpLogin('/', claims), NAVIGATION);
      assert.equal(res.status, 400, claims);
      assert.match(res.body, /asks the identity provider for something vestibule does not pass on/);
      assert.equal(res.headers.getSetCookie().length, 0, claims);
    }
    const repeated = await new TestClient().get(
      `${stepUpLogin('/')}&claims=${encodeURIComponent(C1_CLAIMS)}`,
      NAVIGATION,
    );
    assert.equal(repeated.status, 400);
  });

  it("acr_values: WONDERWALL_OPENID_ACR_VALUES is every login's default, ?level= replaces it when well-formed and supported", async () => {
    const url = async (query: string): Promise<URL> => startLogin(h, new TestClient(), { query });
    assert.equal((await url('redirect=%2F')).searchParams.get('acr_values'), 'urn:mock:pwd');
    assert.equal((await url('level=urn:mock:mfa')).searchParams.get('acr_values'), 'urn:mock:mfa');
    assert.equal(
      (await url('level=urn:other')).searchParams.get('acr_values'),
      'urn:mock:pwd',
      "not in the mock's list",
    );
    assert.equal((await url('level=a%22b')).searchParams.get('acr_values'), 'urn:mock:pwd');
    // cp1 alone: a login without a step-up still declares the capability.
    assert.equal(
      (await url('redirect=%2F')).searchParams.get('claims'),
      '{"access_token":{"xms_cc":{"values":["cp1"]}}}',
    );
  });

  it('configuration: WONDERWALL_OPENID_ACR_VALUES is read, an unknown capability stops start-up', () => {
    const base = { ...process.env, ...envOf(h) };
    assert.equal(loadConfig({ ...base, WONDERWALL_OPENID_ACR_VALUES: 'urn:a urn:b' }).acrValues, 'urn:a urn:b');
    assert.deepEqual(loadConfig({ ...base, VESTIBULE_CLIENT_CAPABILITIES: 'cp1, cp1' }).clientCapabilities, ['cp1']);
    assert.throws(
      () => loadConfig({ ...base, VESTIBULE_CLIENT_CAPABILITIES: 'cp2' }),
      /the one capability Entra knows is cp1/,
    );
    assert.throws(() => loadConfig({ ...base, VESTIBULE_ACR_VALUES: 'a"b' }), /VESTIBULE_ACR_VALUES/);
  });
});

/** The variables the harness started vestibule with that loadConfig needs. */
function envOf(h: Harness): Record<string, string> {
  return {
    AZURE_APP_CLIENT_ID: h.clientId,
    AZURE_APP_WELL_KNOWN_URL: h.mock.wellKnownUrl,
    AZURE_APP_JWK: h.clientJwk,
    VESTIBULE_INGRESS: h.ingress,
    VESTIBULE_UPSTREAM: 'http://127.0.0.1:1',
    VESTIBULE_REDIS_URL: h.redis.url,
    VESTIBULE_ENCRYPTION_KEY: h.encryptionKey,
  };
}

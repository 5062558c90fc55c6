import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness } from './harness.js';
import { NAVIGATION, TestClient } from './http-client.js';
import {
  DEFAULT_USERNAME,
  loggedIn,
  login,
  loginUrl,
  showSignInPage,
  startLogin,
  submitSignIn,
  untilCallback,
} from './mock-login.js';

/** The preferred_username of the token the app gets for `client`'s session. */
async function userOf(h: Harness, client: TestClient): Promise<string | undefined> {
  const res = await client.get(`${h.ingress}/echo/who`);
  const auth = (JSON.parse(res.body) as { headers: Record<string, string | undefined> }).headers.authorization;
  const token = /^Bearer (.+)$/.exec(auth ?? '')?.[1];
  if (token === undefined) return undefined;
  const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
  return claims.preferred_username as string | undefined;
}

describe('mock login helper', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ ingressPath: '/app', logLevel: 'warn' });
  });
  after(() => h.close());

  it('loginUrl: /oauth2/login under the ingress, with an encoded redirect or a raw query (the query wins)', () => {
    const t = { ingress: 'http://x/app' };
    assert.equal(loginUrl(t), 'http://x/app/oauth2/login');
    assert.equal(loginUrl(t, { redirect: '/a b?c=1' }), 'http://x/app/oauth2/login?redirect=%2Fa%20b%3Fc%3D1');
    assert.equal(loginUrl(t, { redirect: '/a', query: 'prompt=login' }), 'http://x/app/oauth2/login?prompt=login');
    assert.equal(loginUrl(t, { query: '' }), 'http://x/app/oauth2/login');
  });

  it('step by step: login start → the mock authorize URL → the sign-in page → the callback URL with code and state', async () => {
    const browser = new TestClient();
    const authorize = await startLogin(h, browser, { redirect: '/app/steps' });
    assert.equal(`${authorize.origin}${authorize.pathname}`, `${h.mock.url}/${h.mock.tenantId}/oauth2/v2.0/authorize`);
    assert.equal(authorize.searchParams.get('redirect_uri'), `${h.ingress}/oauth2/callback`);
    assert.ok(
      browser.cookies().some((c) => c.name.startsWith('vestibule.login.')),
      'the login cookie is set',
    );
    const page = await showSignInPage(browser, authorize);
    assert.match(page.body, /<form method="post"/);
    assert.match(page.body, /name="username"/);
    const callback = await submitSignIn(browser, authorize);
    assert.equal(`${callback.origin}${callback.pathname}`, `${h.ingress}/oauth2/callback`);
    assert.equal(callback.searchParams.get('state'), authorize.searchParams.get('state'));
    assert.ok(callback.searchParams.get('code'));
    assert.equal(browser.cookie('vestibule.session'), undefined, 'nothing visited the callback yet');
    const done = await browser.get(callback, NAVIGATION);
    assert.equal(done.status, 302);
    assert.equal(done.location, `${h.origin}/app/steps`);
    assert.equal(await userOf(h, browser), await userOf(h, await loggedInAs(h, DEFAULT_USERNAME)));
  });

  it('untilCallback stops before the callback; login completes it, as the user asked for', async () => {
    const b1 = new TestClient();
    const callback = await untilCallback(h, b1, { redirect: '/app/one', username: 'someone@example.test' });
    assert.equal(callback.pathname, '/app/oauth2/callback');
    assert.equal(b1.cookie('vestibule.session'), undefined);
    assert.equal((await b1.get(callback, NAVIGATION)).location, `${h.origin}/app/one`);
    assert.equal(await userOf(h, b1), 'someone@example.test');

    const b2 = new TestClient();
    const { callback: res, authorizeUrl } = await login(h, b2, {
      query: 'redirect=%2Fapp%2Ftwo',
      username: 'other@x.test',
    });
    assert.equal(res.status, 302);
    assert.equal(res.location, `${h.origin}/app/two`);
    assert.ok(b2.cookie('vestibule.session'));
    assert.equal(authorizeUrl.searchParams.get('client_id'), h.clientId);
    assert.equal(await userOf(h, b2), 'other@x.test');
  });

  it('loggedIn: a fresh browser with a session and its Cookie header; throws when the login ends without one', async () => {
    const { browser, cookie } = await loggedIn(h, { username: 'cookie@x.test' });
    assert.equal(cookie, `vestibule.session=${browser.cookie('vestibule.session') ?? 'none'}`);
    assert.equal(await userOf(h, browser), 'cookie@x.test');
    h.mock.fail({ kind: 'status', status: 503, grant: 'authorization_code', times: 1 });
    await assert.rejects(loggedIn(h), /^Error: login ended without a session: 50[23] /);
  });

  it('each step throws, naming the step, when the answer is not what a working login gets', async () => {
    const browser = new TestClient();
    await assert.rejects(startLogin({ ingress: h.upstream.url }, browser), /^Error: login did not redirect: 200 /);
    const authorize = await startLogin(h, browser);
    const broken = new URL(authorize);
    broken.searchParams.delete('client_id');
    await assert.rejects(showSignInPage(browser, broken), /^Error: authorize page: 400 /);
    await assert.rejects(submitSignIn(browser, broken), /^Error: authorize POST: 400 /);
  });
});

async function loggedInAs(h: Harness, username: string): Promise<TestClient> {
  const client = new TestClient();
  const { callback } = await login(h, client, { username });
  assert.equal(callback.status, 302);
  return client;
}

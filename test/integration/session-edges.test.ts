import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness } from '../support/harness.js';
import { NAVIGATION, TestClient } from '../support/http-client.js';
import { login } from '../support/mock-login.js';

/** VESTIBULE_ADMIN_TOKEN: the operator endpoint is off without it (admin-auth.test.ts). */
const OPERATOR_TOKEN = 'operator-token-for-session-edges-0123456789';
import { Keyring } from '../../src/crypto/keyring.js';
import { sidHash } from '../../src/login/sid-hash.js';

async function bearer(h: Harness, cookie: string, path = '/echo/e'): Promise<string | undefined> {
  const res = await fetch(`${h.ingress}${path}`, { headers: { cookie } });
  return ((await res.json()) as { headers: Record<string, string> }).headers.authorization;
}

/** Status of a GET sent with the path exactly as given (URL objects would resolve dot segments first). */
function rawStatus(h: Harness, path: string): Promise<number> {
  const u = new URL(h.origin);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, path, headers: NAVIGATION }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

function claimsOf(authorization: string | undefined): Record<string, unknown> {
  const token = (authorization ?? '').replace('Bearer ', '');
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
}

async function loggedIn(
  h: Harness,
  username = 'ada',
): Promise<{ browser: TestClient; cookie: string; claims: Record<string, unknown> }> {
  const browser = new TestClient();
  await login(h, browser, { username });
  const cookie = `vestibule.session=${browser.cookie('vestibule.session') ?? ''}`;
  return { browser, cookie, claims: claimsOf(await bearer(h, cookie)) };
}

describe('logout by the identity provider and by operators', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ env: { VESTIBULE_ADMIN_TOKEN: OPERATOR_TOKEN } });
  });
  after(() => h.close());

  it('front-channel logout with sid only (as Entra sends it) ends every session of that sid, framable, in the store (no cookie is touched)', async () => {
    const s = await loggedIn(h);
    const res = await s.browser.get(`${h.ingress}/oauth2/logout/frontchannel?sid=${String(s.claims.sid)}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-frame-options'), null, 'the IdP logout page may frame it');
    assert.equal(res.headers.get('set-cookie'), null);
    assert.equal(await bearer(h, s.cookie), undefined, 'the session ended in the store: its cookie is no session');
  });

  it('with the right iss it works; with a wrong iss nothing ends', async () => {
    const s = await loggedIn(h);
    const wrong = await fetch(
      `${h.ingress}/oauth2/logout/frontchannel?sid=${String(s.claims.sid)}&iss=${encodeURIComponent('https://evil.example.com/v2.0')}`,
    );
    assert.equal(wrong.status, 400);
    assert.match((await bearer(h, s.cookie)) ?? '', /^Bearer /, 'still logged in');
    const right = await fetch(
      `${h.ingress}/oauth2/logout/frontchannel?sid=${String(s.claims.sid)}&iss=${encodeURIComponent(h.mock.issuer)}`,
    );
    assert.equal(right.status, 200);
    assert.equal(await bearer(h, s.cookie), undefined);
  });

  it('front-channel logout: the sid never reaches a log line (only its keyed hash), so log readers cannot end sessions', async () => {
    const s = await loggedIn(h);
    const sid = String(s.claims.sid);
    assert.match(sid, /^[0-9a-f-]{36}$/, 'the mock issues a sid');
    const res = await fetch(`${h.ingress}/oauth2/logout/frontchannel?sid=${sid}`);
    assert.equal(res.status, 200);
    assert.equal(await bearer(h, s.cookie), undefined);
    const raw = h.rawLogs();
    assert.ok(!raw.includes(sid), 'the raw sid is in no log line');
    const hash = sidHash(new Keyring(h.config.encryptionKey), sid);
    assert.match(hash ?? '', /^[0-9a-f]{16}$/);
    const lines = h.logLines();
    const frontChannel = lines.filter((l) => l.msg === 'front-channel logout' && l.sidHash === hash);
    assert.equal(frontChannel.length, 1, 'the front-channel line names the sid by its hash');
    assert.equal(frontChannel[0]?.ended, 1);
    assert.ok(
      lines.some((l) => l.msg === 'login completed' && l.sidHash === hash),
      'so does the login line, so the two can be matched',
    );
    const otherKey = sidHash(new Keyring(Buffer.alloc(32, 7)), sid);
    assert.notEqual(otherKey, hash, 'keyed: without the encryption key the hash cannot be recomputed');
  });

  it('an unknown sid is a no-op (200); a missing sid is 202 with an empty body (Wonderwall) and clears no cookie; an over-long one 400', async () => {
    const s = await loggedIn(h);
    assert.equal(
      (await fetch(`${h.ingress}/oauth2/logout/frontchannel?sid=00000000-0000-0000-0000-000000000000`)).status,
      200,
    );
    const missing = await fetch(`${h.ingress}/oauth2/logout/frontchannel`, { headers: { cookie: s.cookie } });
    assert.equal(missing.status, 202);
    assert.equal(await missing.text(), '');
    // Logout CSRF (found in review): a cross-site link here must not clear the caller's cookie; Entra ends
    // sessions by sid in the store, from an iframe where Lax cookies are neither sent nor set anyway.
    assert.equal(missing.headers.get('set-cookie'), null, "the caller's cookie is left alone");
    assert.equal((await fetch(`${h.ingress}/oauth2/logout/frontchannel?sid=${'a'.repeat(257)}`)).status, 400);
    assert.match((await bearer(h, s.cookie)) ?? '', /^Bearer /);
  });

  it('an operator ends every session of one user (oid) on the admin listener, and only that user', async () => {
    const a1 = await loggedIn(h, 'ada');
    const a2 = await loggedIn(h, 'ada');
    const other = await loggedIn(h, 'bob');
    assert.equal(a1.claims.oid, a2.claims.oid);
    assert.notEqual(a1.claims.oid, other.claims.oid);
    const res = await h.admin.inject({
      method: 'DELETE',
      url: `/admin/users/${String(a1.claims.oid)}/sessions`,
      headers: { authorization: `Bearer ${OPERATOR_TOKEN}` },
    });
    assert.equal(res.statusCode, 200);
    assert.ok((JSON.parse(res.body) as { ended: number }).ended >= 2);
    assert.equal(await bearer(h, a1.cookie), undefined);
    assert.equal(await bearer(h, a2.cookie), undefined);
    assert.match((await bearer(h, other.cookie)) ?? '', /^Bearer /);
    assert.equal(
      (await fetch(`${h.ingress}/admin/users/${String(a1.claims.oid)}/sessions`, { method: 'DELETE' })).status,
      200,
      'not ours on the public port: proxied to the app',
    );
  });
});

describe('login parameters and loops', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('prompt=login (same-origin) ends the current session first and passes prompt, max_age=0, domain_hint, ui_locales and acr_values', async () => {
    const s = await loggedIn(h);
    const res = await s.browser.get(
      `${h.ingress}/oauth2/login?prompt=login&domain_hint=nav.no&locale=nb&level=urn:mock:mfa`,
      { ...NAVIGATION, 'sec-fetch-site': 'same-origin' },
    );
    assert.equal(res.status, 302);
    const u = new URL(res.location ?? '');
    assert.equal(u.searchParams.get('prompt'), 'login');
    assert.equal(u.searchParams.get('max_age'), '0');
    assert.equal(u.searchParams.get('domain_hint'), 'nav.no');
    assert.equal(u.searchParams.get('ui_locales'), 'nb');
    assert.equal(u.searchParams.get('acr_values'), 'urn:mock:mfa');
    assert.equal(await bearer(h, s.cookie), undefined, 'the old session ended');
  });

  it('unsupported locale and level are not passed; other prompts become login', async () => {
    const res = await new TestClient().get(
      `${h.ingress}/oauth2/login?prompt=none&locale=xx&level=urn:evil`,
      NAVIGATION,
    );
    const u = new URL(res.location ?? '');
    assert.equal(u.searchParams.get('prompt'), 'login');
    assert.equal(u.searchParams.get('ui_locales'), null);
    assert.equal(u.searchParams.get('acr_values'), null);
  });

  it('a login loop gets the 429 page that explains what to do, not another redirect', async () => {
    const browser = new TestClient();
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await browser.get(`${h.ingress}/oauth2/login`, NAVIGATION)).status);
    assert.deepEqual(statuses.slice(0, 8), Array(8).fill(302));
    assert.equal(statuses[8], 429);
    const page = await browser.get(`${h.ingress}/oauth2/login`, NAVIGATION);
    assert.equal(page.status, 429);
    assert.match(page.body, /Too many logins/);
    assert.match(page.body, /Wait a minute/);
    assert.equal(page.headers.get('retry-after'), '60');
  });
});

describe('auto-login ignore paths, protected paths and several ingresses', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      ingressPath: '/app',
      env: {
        VESTIBULE_AUTO_LOGIN: 'true',
        VESTIBULE_AUTO_LOGIN_IGNORE_PATHS: '/app/public/**,/app/api/**',
        VESTIBULE_REQUIRE_TOKEN_PATHS: '/app/api/**,/app/api/admin/** roles=admin',
      },
    });
  });
  after(() => h.close());

  it('ignored paths pass without login; query strings and dot tricks cannot make a path ignored', async () => {
    const c = new TestClient();
    assert.equal((await c.get(`${h.ingress}/public/logo.png`, NAVIGATION)).status, 200);
    assert.equal((await c.get(`${h.origin}/favicon.ico`, NAVIGATION)).status, 200, '/favicon.ico is always ignored');
    assert.equal((await c.get(`${h.ingress}/private?x=/app/public/a`, NAVIGATION)).status, 302);
    assert.equal(await rawStatus(h, '/app/public/../private'), 400);
    assert.equal(await rawStatus(h, '/app/public/%2e%2e/private'), 400);
    assert.equal(await rawStatus(h, '/app/public/./x'), 400);
    assert.equal((await c.get(`${h.ingress}/PUBLIC/x`, NAVIGATION)).status, 302, 'paths are case-sensitive');
  });

  it('protected paths: 401 with WWW-Authenticate without a valid token; a valid bearer passes; a session works too', async () => {
    const anon = await fetch(`${h.ingress}/api/things`);
    assert.equal(anon.status, 401);
    assert.match(anon.headers.get('www-authenticate') ?? '', /^Bearer/);
    const bad = await fetch(`${h.ingress}/api/things`, { headers: { authorization: 'Bearer not.a.jwt' } });
    assert.equal(bad.status, 401);
    assert.match(bad.headers.get('www-authenticate') ?? '', /error="invalid_token"/);

    const userToken = await h.mock.mintAccessToken({ audience: h.clientId, user: h.mock.users[0] });
    const ok = await fetch(`${h.ingress}/api/things`, { headers: { authorization: `Bearer ${userToken}` } });
    assert.equal(ok.status, 200);
    assert.equal(
      ((await ok.json()) as { headers: Record<string, string> }).headers.authorization,
      `Bearer ${userToken}`,
    );

    const admin = await fetch(`${h.ingress}/api/admin/x`, { headers: { authorization: `Bearer ${userToken}` } });
    assert.equal(admin.status, 403, 'valid token without the admin role');
    assert.match(admin.headers.get('www-authenticate') ?? '', /insufficient_scope/);

    const foreign = await h.mock.mintAccessToken({
      audience: '00000000-0000-0000-0000-00000000beef',
      user: h.mock.users[0],
    });
    assert.equal(
      (await fetch(`${h.ingress}/api/things`, { headers: { authorization: `Bearer ${foreign}` } })).status,
      401,
    );

    const s = await loggedIn(h);
    const withSession = await fetch(`${h.ingress}/api/things`, { headers: { cookie: s.cookie } });
    assert.equal(withSession.status, 200, 'a browser session on a protected path uses its access token');
  });
});

describe('several ingresses', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ ingressPath: '/one', extraIngressPaths: ['/two'] });
  });
  after(() => h.close());

  it('redirect_uri and cookie path follow the ingress the request came through', async () => {
    const browser = new TestClient();
    const two = `${h.origin}/two`;
    const { callback, authorizeUrl } = await login({ ingress: two }, browser, { redirect: '/two/page' });
    assert.equal(authorizeUrl.searchParams.get('redirect_uri'), `${two}/oauth2/callback`);
    assert.equal(callback.status, 302);
    assert.equal(callback.location, `${two}/page`);
    assert.match(
      callback.headers.getSetCookie().find((c) => c.startsWith('vestibule.session=')) ?? '',
      /Path=\/two(;|$)/,
    );
    const one = await new TestClient().get(`${h.ingress}/oauth2/login`, NAVIGATION);
    assert.equal(new URL(one.location ?? '').searchParams.get('redirect_uri'), `${h.ingress}/oauth2/callback`);
  });
});

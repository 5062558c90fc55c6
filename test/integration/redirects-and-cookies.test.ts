import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness } from '../support/harness.js';
import { NAVIGATION, TestClient } from '../support/http-client.js';
import { login } from '../support/mock-login.js';

const OPEN_REDIRECTS = [
  '//evil.com',
  '/\\evil.com',
  '/%09/evil.com',
  'https://evil.com',
  'javascript:alert(1)',
  '/app\r\nSet-Cookie: x=y',
  '/%0d%0aSet-Cookie:x=y',
  '\\\\evil.com',
  '/.//evil.com',
  'https:evil.com',
];

describe('redirect targets on an ingress with a path', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ ingressPath: '/app' });
  });
  after(() => h.close());

  for (const payload of OPEN_REDIRECTS) {
    it(`login with redirect=${JSON.stringify(payload)} lands on the ingress root`, async () => {
      const browser = new TestClient();
      const { callback } = await login(h, browser, { redirect: payload });
      assert.equal(callback.status, 302);
      assert.equal(callback.location, `${h.origin}/app`);
      assert.equal(callback.headers.get('set-cookie')?.includes('x=y'), false);
    });
  }

  it('a relative path under the ingress is kept, one outside it is not', async () => {
    const ok = await login(h, new TestClient(), { redirect: '/app/reports?year=2026#top' });
    assert.equal(ok.callback.location, `${h.origin}/app/reports?year=2026#top`);
    const outside = await login(h, new TestClient(), { redirect: '/apple' });
    assert.equal(outside.callback.location, `${h.origin}/app`);
  });

  it('logout with an open-redirect target ends on the ingress root', async () => {
    for (const payload of OPEN_REDIRECTS) {
      const browser = new TestClient();
      await login(h, browser);
      const out = await browser.get(`${h.ingress}/oauth2/logout?redirect=${encodeURIComponent(payload)}`, NAVIGATION);
      const back = await browser.get(out.location ?? '', NAVIGATION);
      const final = await browser.get(back.location ?? '', NAVIGATION);
      assert.equal(final.location, `${h.origin}/app`, payload);
    }
  });

  it('logout callback without its cookie (or with a wrong state) goes to the ingress root', async () => {
    const res = await new TestClient().get(`${h.ingress}/oauth2/logout/callback?state=whatever`, NAVIGATION);
    assert.equal(res.status, 302);
    assert.equal(res.location, `${h.origin}/app`);
  });

  it('the session cookie is scoped to the ingress path and the login cookie to the callback', async () => {
    const browser = new TestClient();
    const start = await browser.get(`${h.ingress}/oauth2/login`, NAVIGATION);
    const loginCookie = start.headers.getSetCookie().find((c) => c.startsWith('vestibule.login.'));
    assert.match(loginCookie ?? '', /Path=\/app\/oauth2\/callback/);
    assert.match(loginCookie ?? '', /HttpOnly/);
    assert.match(loginCookie ?? '', /Max-Age=600/);
    const { callback } = await login(h, browser);
    const session = callback.headers.getSetCookie().find((c) => c.startsWith('vestibule.session='));
    assert.match(session ?? '', /Path=\/app(;|$)/);
  });
});

describe('cookies that are not a session', () => {
  let h: Harness;
  let valid: string;
  before(async () => {
    h = await startHarness();
    const browser = new TestClient();
    await login(h, browser);
    valid = browser.cookie('vestibule.session') ?? '';
  });
  after(() => h.close());

  async function authorizationSeenWith(cookie: string): Promise<{ status: number; authorization: string | undefined }> {
    const res = await new TestClient().get(`${h.ingress}/echo`, { cookie });
    const auth =
      res.status === 200
        ? (JSON.parse(res.body) as { headers: Record<string, string> }).headers.authorization
        : undefined;
    return { status: res.status, authorization: auth };
  }

  it('the valid cookie yields a token (control)', async () => {
    const r = await authorizationSeenWith(`vestibule.session=${valid}`);
    assert.equal(r.status, 200);
    assert.match(r.authorization ?? '', /^Bearer /);
  });

  const variants: [string, (v: string) => string][] = [
    ['tampered last character', (v) => v.slice(0, -1) + (v.endsWith('A') ? 'B' : 'A')],
    ['tampered first character', (v) => (v.startsWith('A') ? 'B' : 'A') + v.slice(1)],
    ['truncated', (v) => v.slice(0, 40)],
    ['extended', (v) => v + 'AAAA'],
    ['empty', () => ''],
    ['garbage', () => '%%%garbage%%%;;=='],
    ['base64 noise of the right length', (v) => Buffer.alloc(48, 7).toString('base64url').slice(0, v.length)],
    ['huge', () => 'A'.repeat(8000)],
  ];
  for (const [name, mutate] of variants) {
    it(`${name}: no session, never a 5xx`, async () => {
      const r = await authorizationSeenWith(`vestibule.session=${mutate(valid)}`);
      assert.equal(r.status, 200);
      assert.equal(r.authorization, undefined);
    });
  }

  it('a valid-looking cookie from a deployment with another key: no session', async () => {
    const other = await startHarness({ shared: undefined });
    try {
      const browser = new TestClient();
      await login(other, browser);
      const foreign = browser.cookie('vestibule.session') ?? '';
      const r = await authorizationSeenWith(`vestibule.session=${foreign}`);
      assert.equal(r.status, 200);
      assert.equal(r.authorization, undefined);
    } finally {
      await other.close();
    }
  });

  it('a duplicated cookie name with garbage first still finds the valid session', async () => {
    const r = await authorizationSeenWith(`vestibule.session=garbage; vestibule.session=${valid}`);
    assert.match(r.authorization ?? '', /^Bearer /);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness } from '../support/harness.js';
import { NAVIGATION, TestClient, type Response } from '../support/http-client.js';
import { login, untilCallback } from '../support/mock-login.js';
import { sendRaw } from '../support/raw-http.js';

// Malformed authorization responses at /oauth2/callback (peers.md §4.4 "Callback"; Envoy CVE-2023-27496,
// mod_auth_openidc's "duplicated security-critical parameters" and "empty iss" items). The basic guards
// (missing state, tampered state, other browser, replay, IdP error with HTML) are in
// test/integration/callback-guards.test.ts.

const SESSION = 'vestibule.session';

/** Starts a login and submits the mock's form (mock-login.ts); returns the browser and the callback URL. */
async function startedLogin(h: Harness, browser = new TestClient()): Promise<{ browser: TestClient; callback: URL }> {
  return { browser, callback: await untilCallback(h, browser) };
}

/** The callback URL with a raw query string appended to its own (duplicates stay duplicates). */
function withExtra(callback: URL, extra: string): string {
  return `${callback.href}&${extra}`;
}

function assertNoSession(res: Response, browser: TestClient, label: string): void {
  assert.equal(browser.cookie(SESSION), undefined, `${label}: no session`);
  assert.equal(
    res.headers.getSetCookie().some((c) => c.startsWith(`${SESSION}=`) && !c.includes('Max-Age=0')),
    false,
  );
}

describe('callback with malformed parameters', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ logLevel: 'warn' });
  });
  after(() => h.close());

  it('duplicated state (same value twice, or two values) is refused with 400, and the real response still completes', async () => {
    for (const extra of ['same', 'other']) {
      const { browser, callback } = await startedLogin(h);
      const state = callback.searchParams.get('state') ?? '';
      const res = await browser.get(withExtra(callback, `state=${extra === 'same' ? state : 'b'}`), NAVIGATION);
      assert.equal(res.status, 400, extra);
      assertNoSession(res, browser, extra);
      const real = await browser.get(callback, NAVIGATION);
      assert.equal(real.status, 302, `${extra}: the login cookie was not spent by the refused request`);
      assert.ok(browser.cookie(SESSION));
    }
  });

  it('empty state, no query at all, or only an error: 400 with the HTML error page', async () => {
    for (const query of ['?state=', '', '?', '?state=&code=&iss=', '?error=access_denied', '?code=abc']) {
      const browser = new TestClient();
      const res = await browser.get(`${h.ingress}/oauth2/callback${query}`, NAVIGATION);
      assert.equal(res.status, 400, query);
      assert.match(res.headers.get('content-type') ?? '', /text\/html/);
      assertNoSession(res, browser, query);
    }
  });

  it('a state holding characters a cookie name cannot (";", " ", "=", CR/LF, non-ASCII): a 4xx, never a 500 echoing the input', async () => {
    const failures: string[] = [];
    for (const state of ['a;b', 'a b', 'a=b', 'a\r\nb', 'a\tb', 'é', '\u0000', 'a,b;c']) {
      const res = await new TestClient().get(
        `${h.ingress}/oauth2/callback?state=${encodeURIComponent(state)}&code=x`,
        NAVIGATION,
      );
      if (res.status >= 500 || res.body.includes('cookie name'))
        failures.push(`${JSON.stringify(state)} → ${res.status} ${res.body.slice(0, 80)}`);
    }
    assert.deepEqual(failures, []);
  });

  it('missing, empty or duplicated code, duplicated or foreign iss: refused as bad input (4xx), not as an IdP fault (5xx)', async () => {
    const cases: [string, (u: URL) => string][] = [
      ['no code', (u) => (u.searchParams.delete('code'), u.href)],
      ['empty code', (u) => (u.searchParams.set('code', ''), u.href)],
      ['duplicated code', (u) => withExtra(u, `code=${u.searchParams.get('code') ?? ''}`)],
      ['two codes', (u) => withExtra(u, 'code=other')],
      ['duplicated iss', (u) => withExtra(u, 'iss=a&iss=b')],
      ['foreign iss', (u) => withExtra(u, `iss=${encodeURIComponent('https://login.evil.example/tenant/v2.0')}`)],
      ['duplicated error', (u) => withExtra(u, 'error=a&error=b')],
    ];
    const failures: string[] = [];
    for (const [name, mutate] of cases) {
      const { browser, callback } = await startedLogin(h);
      const res = await browser.get(mutate(callback), NAVIGATION);
      assertNoSession(res, browser, name);
      if (res.status < 400 || res.status >= 500) failures.push(`${name} → ${res.status}`);
    }
    assert.deepEqual(failures, []);
  });

  it('the mix-up defences never create a session: foreign iss, duplicated iss or code', async () => {
    for (const extra of ['iss=https%3A%2F%2Fevil.example', 'iss=a&iss=b', 'code=other']) {
      const { browser, callback } = await startedLogin(h);
      const res = await browser.get(withExtra(callback, extra), NAVIGATION);
      assert.notEqual(res.status, 302, extra);
      assert.ok(res.status < 500 || res.status === 502, `${extra}: ${res.status}`);
      assertNoSession(res, browser, extra);
    }
  });

  it('an empty iss is treated as absent (Entra sends none): no 5xx; a session only when the login completes', async () => {
    const { browser, callback } = await startedLogin(h);
    const res = await browser.get(withExtra(callback, 'iss='), NAVIGATION);
    assert.ok(res.status === 302 || res.status === 400, String(res.status));
    assert.equal(browser.cookie(SESSION) !== undefined, res.status === 302);
  });

  it('error= with HTML, CR/LF and 10 KB of text: escaped code only, no header injection, no reflection', async () => {
    const hostile = [
      '<svg/onload=alert(1)>',
      'x\r\nSet-Cookie: injected=1',
      'x\r\n\r\n<html>',
      'A'.repeat(10_000),
      'access_denied"><script>alert(1)</script>',
    ];
    for (const error of hostile) {
      const { browser, callback } = await startedLogin(h);
      callback.searchParams.delete('code');
      callback.searchParams.set('error', error);
      callback.searchParams.set('error_description', error);
      const res = await browser.get(callback, NAVIGATION);
      assert.equal(res.status, 502, error.slice(0, 20));
      assert.match(res.body, /unknown_error/);
      assert.doesNotMatch(res.body, /<svg|<script|injected|AAAAAAAAAA/);
      assert.equal(
        res.headers.getSetCookie().some((c) => c.startsWith('injected')),
        false,
      );
      assertNoSession(res, browser, error.slice(0, 20));
    }
  });

  it('POST, PUT and DELETE to the callback (empty, form or no Content-Type): ours (4xx), never proxied, no session', async () => {
    const { browser, callback } = await startedLogin(h);
    const seen = h.upstream.seen.length;
    const bodies: { headers: Record<string, string>; body?: string }[] = [
      { headers: {} },
      { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' },
      { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: callback.search.slice(1) },
      { headers: { 'content-type': 'application/json' }, body: '' },
      { headers: { 'content-length': '0' } },
    ];
    for (const method of ['POST', 'PUT', 'DELETE']) {
      for (const b of bodies) {
        const res = await browser.request(callback.href, {
          method,
          headers: { ...NAVIGATION, ...b.headers },
          body: b.body,
        });
        assert.ok(res.status >= 400 && res.status < 500, `${method} ${JSON.stringify(b)}: ${res.status}`);
        assertNoSession(res, browser, method);
      }
    }
    // A raw POST with neither Content-Type nor Content-Length (mod_auth_openidc CVE-2021-20718 shape).
    const port = Number(new URL(h.origin).port);
    const raw = await sendRaw(
      port,
      `POST /oauth2/callback${callback.search} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    );
    assert.ok(raw.status !== undefined && raw.status >= 400 && raw.status < 500, String(raw.status));
    assert.equal(h.upstream.seen.length, seen, 'nothing reached the app');
    const real = await browser.get(callback, NAVIGATION);
    assert.equal(real.status, 302, 'the real response still completes afterwards');
  });

  it('a callback without its login cookie leaves the current session alone', async () => {
    const browser = new TestClient();
    await login(h, browser);
    const before = browser.cookie(SESSION);
    const { callback } = await startedLogin(h, new TestClient());
    const res = await browser.get(callback, NAVIGATION);
    assert.equal(res.status, 401);
    assert.equal(browser.cookie(SESSION), before);
    const meta = await browser.get(`${h.ingress}/oauth2/session`);
    assert.equal(meta.status, 200, 'the session still works');
  });

  it('a 30 KB callback query (below the 32 KB header limit): 400, no 5xx', async () => {
    const res = await new TestClient().get(`${h.ingress}/oauth2/callback?x=${'a'.repeat(30_000)}`, NAVIGATION);
    assert.equal(res.status, 400);
  });

  it('HEAD on the callback with no parameters: 400 without a body', async () => {
    const res = await new TestClient().request(`${h.ingress}/oauth2/callback`, { method: 'HEAD', headers: NAVIGATION });
    assert.equal(res.status, 400);
    assert.equal(res.body, '');
  });
});

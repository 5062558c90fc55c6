import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness } from '../support/harness.js';
import { TestClient } from '../support/http-client.js';
import { login } from '../support/mock-login.js';
import { rawGet, sendRaw } from '../support/raw-http.js';
import { echoOf } from '../support/echo.js';
import { assertAnonymous, OUR_COOKIE, throughProxy } from '../support/proxied-view.js';

// Hostile Cookie headers (peers.md §4.4 "Cookies"; mod_auth_openidc CVE-2026-54789, CVE-2024-24814,
// CVE-2023-28625; Envoy CVE-2022-29226). test/integration/redirects-and-cookies.test.ts already covers
// tampered, truncated, extended, empty, garbage, 8 KB, other-key and garbage-first duplicates; the login,
// logout and expired-session cookies are in state-cookies.test.ts.

const SESSION = 'vestibule.session';

function portOf(h: Harness): number {
  return Number(new URL(h.origin).port);
}

describe('hostile cookies', () => {
  let h: Harness;
  let valid: string;
  before(async () => {
    h = await startHarness({ logLevel: 'warn' });
    const browser = new TestClient();
    await login(h, browser);
    valid = browser.cookie(SESSION) ?? '';
    assert.equal(valid.length, 64);
  });
  after(() => h.close());

  it('pairs without "=", empty pairs, stray separators and quotes: no session, no 5xx, nothing of ours upstream', async () => {
    const variants = [
      SESSION,
      `${SESSION};`,
      ';;;',
      '=',
      '==;==',
      `=${SESSION}`,
      `${SESSION}=`,
      `${SESSION}==`,
      `${SESSION}="`,
      `${SESSION}=""`,
      `${SESSION}="${valid}`,
      `${SESSION}=${valid}"`,
      `${SESSION}; =${valid}`,
      `${SESSION}.0=${valid}`,
      `${SESSION}x=${valid}`,
      `Vestibule.Session=${valid}`,
      `${SESSION}=${valid.toUpperCase()}`,
      `${SESSION}=${encodeURIComponent(valid + '=')}`,
      `${SESSION}=${Buffer.from(valid, 'base64url').toString('base64')}`,
      `${SESSION}=${valid.slice(0, 63)}%41`,
      `${SESSION}=${valid}${valid}`,
      `${SESSION}=%00${valid.slice(3)}`,
      `${SESSION}=${'%'.repeat(64)}`,
      `${SESSION}=${'/'.repeat(64)}`,
      `__proto__=${valid}; constructor=x; ${SESSION}=__proto__`,
    ];
    // A re-encoding of the valid value is the valid value itself when it holds no '-' or '_' (about one
    // run in eight for the base64 variant): that one is a real session, not a hostile cookie.
    for (const cookie of variants.filter((c) => c !== `${SESSION}=${valid}`)) {
      const r = await throughProxy(h, cookie);
      assert.equal(r.status, 200, cookie);
      assert.equal(r.authorization, undefined, cookie);
      assert.doesNotMatch(r.cookie ?? '', OUR_COOKIE, `${cookie}: none of our cookies upstream`);
    }
  });

  it('base64url noise of every length from 0 to 100 characters: no session', async () => {
    for (let length = 0; length <= 100; length++) {
      const noise = randomBytes(length).toString('base64url').slice(0, length);
      assertAnonymous(await throughProxy(h, `${SESSION}=${noise}`), `length ${length}`);
    }
  });

  it('raw bytes 0x80-0xFF in the cookie value (latin1 on the wire): 200 without a session, or a 400', async () => {
    const port = portOf(h);
    for (let b = 0x80; b <= 0xff; b += 0x0f) {
      const value = String.fromCharCode(b).repeat(3) + valid.slice(3);
      const res = await sendRaw(port, rawGet('/echo/bytes', [['Cookie', `${SESSION}=${value}`]]));
      assert.ok(res.status === 200 || res.status === 400, `byte ${b}: ${res.status}`);
      if (res.status === 200) assert.equal(echoOf(res)?.headers.authorization, undefined);
    }
  });

  it('a 64 KB Cookie header is refused with 431 and the server keeps serving', async () => {
    const port = portOf(h);
    const huge = await sendRaw(port, rawGet('/echo', [['Cookie', `${SESSION}=${'A'.repeat(64 * 1024)}`]]));
    assert.equal(huge.status, 431);
    const pairs = await sendRaw(
      port,
      rawGet('/echo', [['Cookie', Array.from({ length: 8000 }, (_, i) => `c${i}=v`).join('; ')]]),
    );
    assert.equal(pairs.status, 431);
    const next = await throughProxy(h, `${SESSION}=${valid}`);
    assert.match(next.authorization ?? '', /^Bearer ey/);
  });

  it('8 KB of 500 pairs with 100 copies of our cookie name (all bogus): no session, no store storm, nothing of ours upstream', async () => {
    const pairs: string[] = [];
    for (let i = 0; i < 500; i++)
      pairs.push(i % 5 === 0 ? `${SESSION}=${randomBytes(48).toString('base64url')}` : `app${i}=v${i}`);
    const cookie = pairs.join('; ');
    assert.ok(cookie.length > 8000);
    const r = await throughProxy(h, cookie);
    assertAnonymous(r, '500 pairs');
    assert.equal(r.cookie?.split('; ').length, 400, 'the app keeps its 400 own cookies');
  });

  it('100 chunk-style cookies (vestibule.session.0 … .99, the CVE-2024-24814 shape) are ignored and stripped', async () => {
    const cookie = Array.from({ length: 100 }, (_, i) => `${SESSION}.${i}=${valid}`).join('; ') + '; app=1';
    const r = await throughProxy(h, cookie);
    assertAnonymous(r, 'chunks');
    assert.equal(r.cookie, 'app=1');
  });

  it('our cookie in a second Cookie header line is found, and stripped before the app', async () => {
    const res = await sendRaw(
      portOf(h),
      rawGet('/echo/two-lines', [
        ['Cookie', 'app=1'],
        ['Cookie', `${SESSION}=${valid}`],
        ['Cookie', 'theme=dark'],
      ]),
    );
    const echo = echoOf(res);
    assert.match(echo?.headers.authorization ?? '', /^Bearer ey/);
    assert.equal(echo?.headers.cookie, 'app=1; theme=dark');
  });

  it('duplicated name: the valid value is found in second or third position', async () => {
    for (const bogus of [['garbage'], ['garbage', randomBytes(48).toString('base64url')]]) {
      const cookie = [...bogus.map((v) => `${SESSION}=${v}`), `${SESSION}=${valid}`].join('; ');
      const r = await throughProxy(h, cookie);
      assert.match(r.authorization ?? '', /^Bearer ey/, `after ${bogus.length} bogus`);
      assert.doesNotMatch(r.cookie ?? '', OUR_COOKIE);
    }
  });

  it('duplicated name: three planted values that fail the MAC do not hide the valid one (cookie tossing)', async () => {
    const cookie = ['a', 'b', 'c'].map((v) => `${SESSION}=${v}`).join('; ') + `; ${SESSION}=${valid}`;
    assert.match((await throughProxy(h, cookie)).authorization ?? '', /^Bearer ey/);
  });

  it('a cookie minted by another instance with the same key but its own store: no session', async () => {
    const other = await startHarness({ logLevel: 'warn', env: { VESTIBULE_ENCRYPTION_KEY: h.encryptionKey } });
    try {
      const b = new TestClient();
      await login(other, b);
      const foreign = b.cookie(SESSION) ?? '';
      assert.match((await throughProxy(other, `${SESSION}=${foreign}`)).authorization ?? '', /^Bearer /);
      assertAnonymous(await throughProxy(h, `${SESSION}=${foreign}`), 'same key, other store');
      assert.equal(
        (await new TestClient().get(`${h.ingress}/oauth2/session`, { cookie: `${SESSION}=${foreign}` })).status,
        401,
      );
    } finally {
      await other.close();
    }
  });

  it('a cookie of another app sharing the key and the Redis (other client id): no session', async () => {
    const other = await startHarness({
      logLevel: 'warn',
      env: { VESTIBULE_ENCRYPTION_KEY: h.encryptionKey, VESTIBULE_REDIS_URL: h.redis.url },
    });
    try {
      const b = new TestClient();
      await login(other, b);
      const foreign = b.cookie(SESSION) ?? '';
      assertAnonymous(await throughProxy(h, `${SESSION}=${foreign}`), 'other client id');
    } finally {
      await other.close();
    }
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness } from '../support/harness.js';
import { login } from '../support/mock-login.js';
import { TestClient } from '../support/http-client.js';

// Review 2, finding 3: on a sub-path ingress a sibling plants a genuine session cookie of its own with Path=/app
// for the parent domain; every login then sets ours beside it (another domain), the pair counts as "two valid
// values: no session", and the user loops until the login-loop 429. vestibule cannot tell which one is ours, nor
// remove a cookie of another domain, but it must say so: a warning without any cookie value, and a metric.

const SESSION = 'vestibule.session';
const MESSAGE = 'cookie tossing suspected';

describe('session cookie tossing locks the user out (sub-path ingress)', () => {
  let h: Harness;
  let planted: string;
  before(async () => {
    h = await startHarness({ logLevel: 'info', ingressPath: '/app' });
    const attacker = new TestClient();
    await login(h, attacker, { username: 'mallory' });
    planted = attacker.cookie(SESSION) ?? '';
    assert.equal(planted.length, 64);
  });
  after(() => h.close());

  it('cookie tossing: a login that carries a planted session beside ours is logged and counted, with no cookie value', async () => {
    const browser = new TestClient();
    // The victim's own session, then the sibling's plant beside it (another domain: both ride to /app/…).
    await login(h, browser, { username: 'ada' });
    const own = browser.cookie(SESSION) ?? '';
    browser.setCookie(h.origin, SESSION, planted, '/');
    const { callback } = await login(h, browser, { username: 'ada' });
    assert.equal(callback.status, 302, 'the login itself completes');

    const warnings = h.logLines().filter((l) => String(l.msg).startsWith(MESSAGE));
    assert.equal(warnings.length, 1, 'one warning for the one login');
    assert.equal(warnings[0]!.level, 'warn');
    const text = h.rawLogs();
    for (const value of [planted, own, browser.cookie(SESSION) ?? '']) {
      assert.ok(value.length > 0 && !text.includes(value), 'no session cookie value in any log line');
    }
    const metrics = await h.metrics.registry.metrics();
    assert.match(metrics, /^vestibule_cookie_tossing_total 1$/m);
  });

  it('cookie tossing: an ordinary login again (one session cookie of ours) is not suspected', async () => {
    const browser = new TestClient();
    await login(h, browser, { username: 'grace' });
    await login(h, browser, { username: 'grace' });
    const metrics = await h.metrics.registry.metrics();
    assert.match(metrics, /^vestibule_cookie_tossing_total 1$/m, 'still only the one above');
  });
});

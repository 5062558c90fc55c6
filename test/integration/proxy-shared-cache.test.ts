import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sharedWith, startHarness, type Harness } from '../support/harness.js';
import { login } from '../support/mock-login.js';
import { TestClient } from '../support/http-client.js';

// A finding of the security review (issue 15), proved over real sockets: a regression test per attack, named
// after it (docs/security.md, "Review findings fixed (issue 15)").

describe('review (issue 15): a re-issued session cookie on a shared-cacheable answer', () => {
  const K1 = randomBytes(32).toString('base64');
  const K2 = randomBytes(32).toString('base64');
  let old: Harness; // seals cookies under K1
  let rolled: Harness; // K2, K1 as previous: re-issues K1 cookies under K2
  let c1: string;
  before(async () => {
    old = await startHarness({ env: { VESTIBULE_ENCRYPTION_KEY: K1, VESTIBULE_ENCRYPTION_KEY_PREVIOUS: K2 } });
    rolled = await startHarness({
      shared: { ...sharedWith(old), encryptionKey: K2 },
      env: { VESTIBULE_ENCRYPTION_KEY_PREVIOUS: K1 },
    });
    const browser = new TestClient();
    await login(old, browser);
    c1 = browser.cookie('vestibule.session') ?? '';
  });
  after(async () => {
    await rolled.close();
    await old.close();
  });

  it('shared-cache session leak: an answer carrying our Set-Cookie is private and varies on Cookie', async () => {
    const res = await new TestClient().get(`${rolled.ingress}/cacheable`, { cookie: `vestibule.session=${c1}` });
    assert.equal(res.status, 200);
    assert.equal(res.body, 'cacheable');
    const renewed = res.headers.getSetCookie().find((c) => c.startsWith('vestibule.session='));
    assert.ok(renewed && !renewed.startsWith(`vestibule.session=${c1};`), 'the stale-key cookie is re-issued');
    const cacheControl = (res.headers.get('cache-control') ?? '').split(',').map((d) => d.trim().toLowerCase());
    assert.ok(cacheControl.includes('private'), `cache-control: ${cacheControl.join(', ')}`);
    assert.ok(!cacheControl.includes('public'), `cache-control: ${cacheControl.join(', ')}`);
    assert.ok(!cacheControl.some((d) => d.startsWith('s-maxage')), `cache-control: ${cacheControl.join(', ')}`);
    assert.ok(cacheControl.includes('max-age=60'), "the app's own browser caching is kept");
    const vary = (res.headers.get('vary') ?? '').split(',').map((v) => v.trim().toLowerCase());
    assert.ok(vary.includes('cookie') && vary.includes('accept-encoding'), `vary: ${vary.join(', ')}`);
  });

  it("an answer without our Set-Cookie keeps the app's caching headers as sent", async () => {
    // The old instance's own cookie is current there: nothing to re-issue.
    const res = await new TestClient().get(`${old.ingress}/cacheable`, { cookie: `vestibule.session=${c1}` });
    assert.equal(res.headers.getSetCookie().length, 0);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=60, s-maxage=600');
    assert.equal(res.headers.get('vary'), 'Accept-Encoding');
  });
});

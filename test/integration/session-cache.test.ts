import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness, sharedWith } from '../support/harness.js';
import { NAVIGATION } from '../support/http-client.js';
import { loggedIn } from '../support/mock-login.js';

async function bearer(h: Harness, cookie: string): Promise<string | undefined> {
  const res = await fetch(`${h.ingress}/echo/c`, { headers: { cookie } });
  return ((await res.json()) as { headers: Record<string, string> }).headers.authorization;
}

describe('the in-process session cache across replicas', () => {
  let a: Harness;
  let b: Harness;
  before(async () => {
    a = await startHarness();
    b = await startHarness({
      shared: sharedWith(a),
    });
  });
  after(async () => {
    await b.close();
    await a.close();
  });

  it('a logout on one replica is honoured by the other at once, although it had the session cached', async () => {
    const { browser, cookie } = await loggedIn(a);
    assert.match((await bearer(b, cookie)) ?? '', /^Bearer /, 'b reads (and caches) the session');
    assert.match((await bearer(b, cookie)) ?? '', /^Bearer /);
    const out = await browser.get(`${a.ingress}/oauth2/logout/local`, {
      ...NAVIGATION,
      'sec-fetch-site': 'same-origin',
    });
    assert.equal(out.status, 204);
    // Pub/sub delivery is asynchronous but fast; allow it a moment, far below the cache TTL (2 s).
    let after: string | undefined = 'unset';
    for (let i = 0; i < 20 && after !== undefined; i++) {
      after = await bearer(b, cookie);
      if (after !== undefined) await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(after, undefined, 'b no longer forwards a token for the ended session');
  });

  it('front-channel logout on one replica ends the session everywhere', async () => {
    const { cookie } = await loggedIn(a);
    assert.match((await bearer(b, cookie)) ?? '', /^Bearer /);
    const sid = await sidOf(a, cookie);
    const res = await fetch(`${a.ingress}/oauth2/logout/frontchannel?sid=${encodeURIComponent(sid)}`);
    assert.equal(res.status, 200);
    let after: string | undefined = 'unset';
    for (let i = 0; i < 20 && after !== undefined; i++) {
      after = await bearer(b, cookie);
      if (after !== undefined) await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(after, undefined);
  });
});

/** The Entra session id, read from the ID token the way vestibule stored it (via the token's sid claim). */
async function sidOf(h: Harness, cookie: string): Promise<string> {
  const token = ((await bearer(h, cookie)) ?? '').replace('Bearer ', '');
  const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { sid?: string };
  assert.ok(payload.sid, 'the mock puts sid in login-derived access tokens');
  return payload.sid;
}

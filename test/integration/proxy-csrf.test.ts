import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { echoOf } from '../support/echo.js';
import { startHarness, type Harness } from '../support/harness.js';
import { login } from '../support/mock-login.js';
import { TestClient } from '../support/http-client.js';

// A finding of the security review (issue 15), proved over real sockets: a regression test per attack, named
// after it (docs/security.md, "Review findings fixed (issue 15)").

describe('review (issue 15): cross-site request forgery with VESTIBULE_CSRF_CHECK', () => {
  let on: Harness;
  let off: Harness;
  let cookie: string;
  let offCookie: string;
  before(async () => {
    on = await startHarness({ logLevel: 'warn', env: { VESTIBULE_CSRF_CHECK: 'true' } });
    off = await startHarness({ logLevel: 'warn' });
    const a = new TestClient();
    await login(on, a);
    cookie = `vestibule.session=${a.cookie('vestibule.session') ?? ''}`;
    const b = new TestClient();
    await login(off, b);
    offCookie = `vestibule.session=${b.cookie('vestibule.session') ?? ''}`;
  });
  after(async () => {
    await off.close();
    await on.close();
  });

  const FORM = 'amount=1000&to=mallory';
  // Content-Length set here: node:http frames a DELETE body with neither it nor chunked encoding.
  const send = (h: Harness, method: string, path: string, headers: Record<string, string>) =>
    new TestClient().request(`${h.ingress}${path}`, {
      method,
      headers:
        method === 'GET'
          ? headers
          : { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(FORM.length), ...headers },
      ...(method === 'GET' ? {} : { body: FORM }),
    });
  const reached = (h: Harness, path: string): boolean => h.upstream.seen.some((s) => s.url === path);

  it('cross-site request forgery: an unsafe method with a session from another site is refused (403), never forwarded', async () => {
    const cases: [string, Record<string, string>][] = [
      ['POST', { 'sec-fetch-site': 'cross-site', origin: 'http://evil.example' }],
      ['PUT', { 'sec-fetch-site': 'cross-site' }],
      // A sibling subdomain is same-site but not same-origin: it may be someone else's app.
      ['PATCH', { 'sec-fetch-site': 'same-site' }],
      // No Fetch Metadata (older browsers): a foreign Origin decides.
      ['DELETE', { origin: 'http://evil.example' }],
      ['POST', { origin: 'null' }],
    ];
    for (const [i, [method, headers]] of cases.entries()) {
      const path = `/echo/csrf-${i}`;
      const res = await send(on, method, path, { cookie, ...headers });
      assert.equal(res.status, 403, `${method} ${JSON.stringify(headers)} ${res.body}`);
      assert.match(res.body, /"error":"forbidden"/);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.equal(reached(on, path), false, `${method} ${JSON.stringify(headers)} reached the app`);
    }
  });

  it('same-origin, user-initiated and Fetch-Metadata-less unsafe requests are forwarded with the token', async () => {
    const cases: Record<string, string>[] = [
      { 'sec-fetch-site': 'same-origin', origin: on.origin },
      { 'sec-fetch-site': 'none' },
      { origin: on.origin },
      {}, // curl, server-to-server
    ];
    for (const headers of cases) {
      const res = await send(on, 'POST', '/echo/ok', { cookie, ...headers });
      assert.match(echoOf(res)?.headers.authorization ?? '', /^Bearer ey/, JSON.stringify(headers));
    }
  });

  it('safe methods and requests without a session are not affected', async () => {
    const get = await send(on, 'GET', '/echo/get', { cookie, 'sec-fetch-site': 'cross-site' });
    assert.match(echoOf(get)?.headers.authorization ?? '', /^Bearer ey/);
    const anonymous = await send(on, 'POST', '/echo/anon', { 'sec-fetch-site': 'cross-site' });
    assert.equal(echoOf(anonymous)?.headers.authorization, undefined);
    assert.equal(echoOf(anonymous)?.method, 'POST');
  });

  it('with the setting off (the default) a cross-site POST is forwarded with the token', async () => {
    const res = await send(off, 'POST', '/echo/off', { cookie: offCookie, 'sec-fetch-site': 'cross-site' });
    assert.match(echoOf(res)?.headers.authorization ?? '', /^Bearer ey/);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness } from '../support/harness.js';
import { TestClient } from '../support/http-client.js';
import { login } from '../support/mock-login.js';
import { taggedGet } from '../support/tagged-get.js';

// Found in review: a raw '#' in the request target is kept by normalizePath as a literal (%23) part of the path, so a
// protection rule does not match `/api/admin#x`, while the app's router (Express's parseurl falls back to url.parse,
// Fastify's find-my-way url-sanitizer splits on charCode 35, WHATWG URL) cuts the path at '#' and routes it to the handler of `/api/admin`.
// The exemption direction was covered (`/private#/public/a`); the protection direction is not.
// A raw '#' is now refused before anything else (400), and has no canonical form for the rules (fail closed).
describe('protected-path fragment bypass', () => {
  let h: Harness;
  let cookie: string;
  before(async () => {
    h = await startHarness({
      logLevel: 'warn',
      env: { VESTIBULE_REQUIRE_TOKEN_PATHS: '/api/**,/api/admin/** roles=admin,/reports/export roles=admin' },
    });
    const browser = new TestClient();
    await login(h, browser);
    cookie = `vestibule.session=${browser.cookie('vestibule.session') ?? ''}`;
  });
  after(() => h.close());

  it('a session without the admin role never reaches an admin handler, whatever follows a raw #', async () => {
    const leaked: string[] = [];
    for (const target of ['/api/admin#', '/api/admin#x', '/API/ADMIN#', '/reports/export#']) {
      const routed = new URL(target, 'http://app.example').pathname; // what the app's router dispatches on
      const { status, seen } = await taggedGet(h, target, [['Cookie', cookie]]);
      if (status === undefined || status < 400 || seen)
        leaked.push(`${target} (app routes ${routed}) → ${status} proxied=${seen !== undefined}`);
    }
    assert.deepEqual(leaked, []);
  });

  it('no token at all never reaches a protected handler through a raw #', async () => {
    const leaked: string[] = [];
    for (const target of ['/api#', '/api#/x', '/API#', '/reports/export#']) {
      const { status, seen } = await taggedGet(h, target);
      if (status === undefined || status < 400 || seen)
        leaked.push(`${target} → ${status} proxied=${seen !== undefined}`);
    }
    assert.deepEqual(leaked, []);
  });
});

describe('a raw # in the request target', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ logLevel: 'warn' });
  });
  after(() => h.close());

  it('is refused with 400 before it can reach the app, even where no rule applies', async () => {
    for (const target of ['/open#', '/open#x', '/a/b#/c']) {
      const { status, seen } = await taggedGet(h, target);
      assert.equal(status, 400, target);
      assert.equal(seen, undefined, `${target} reached the app`);
    }
    const ok = await taggedGet(h, '/open%23x');
    assert.equal(ok.status, 200, 'an encoded # is an ordinary path character');
  });
});

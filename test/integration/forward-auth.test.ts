import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness } from '../support/harness.js';
import { login } from '../support/mock-login.js';
import { NAVIGATION } from '../support/http-client.js';
import { TestClient, type Response } from '../support/http-client.js';
import { nginxBlockOf, startNginx, type Nginx } from '../support/nginx.js';
import { freePort } from '../support/free-port.js';

const SESSION = 'vestibule.session';
/** What a page's `fetch('/…')` on its own origin sends (Chrome, Firefox, Safari ≥ 16.4). */
const SAME_ORIGIN_FETCH = { 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty', 'sec-fetch-site': 'same-origin' };
/** Identity and forwarding headers a hostile client adds, hoping the app trusts them. */
const SPOOFED = {
  'x-forwarded-user': 'mallory',
  'x-forwarded-email': 'mallory@example.com',
  'x-auth-request-user': 'mallory',
  'x-auth-request-access-token': 'forged',
  'remote-user': 'mallory',
  'x-remote-user': 'mallory',
  'x-original-uri': '/admin',
  authorization: 'Bearer forged',
};

type Seen = { headers: Record<string, string | undefined> };
const echoed = (res: Response): Seen => JSON.parse(res.body) as Seen;

describe('forward-auth', () => {
  let h: Harness;
  let forwardAuthPort: number;
  let cookie: string;
  before(async () => {
    forwardAuthPort = await freePort();
    h = await startHarness({
      logLevel: 'warn',
      env: {
        VESTIBULE_FORWARD_AUTH: 'true',
        VESTIBULE_FORWARD_AUTH_BIND_ADDRESS: `127.0.0.1:${forwardAuthPort}`,
      },
    });
    const browser = new TestClient();
    await login(h, browser);
    cookie = `${SESSION}=${browser.cookie(SESSION) ?? ''}`;
  });
  after(() => h.close());

  it('page-script token theft: a same-origin fetch to /oauth2/session/forwardauth gets no Authorization header', async () => {
    const res = await new TestClient().get(`${h.ingress}/oauth2/session/forwardauth`, { ...SAME_ORIGIN_FETCH, cookie });
    assert.equal(res.status, 204, 'a logged-in browser may still ask whether it is logged in (Wonderwall: bare 204)');
    assert.equal(res.headers.get('authorization'), null);
    // Nor with no fetch metadata at all (an older browser, or a plain-http origin): the public port never hands out a token.
    const bare = await new TestClient().get(`${h.ingress}/oauth2/session/forwardauth`, { cookie });
    assert.equal(bare.status, 204);
    assert.equal(bare.headers.get('authorization'), null);
    const none = await new TestClient().get(`${h.ingress}/oauth2/session/forwardauth`);
    assert.equal(none.status, 401);
  });

  it('the ingress subrequest on the forward-auth listener gets the token, and the Cookie header without ours', async () => {
    const fa = `http://127.0.0.1:${forwardAuthPort}/oauth2/session/forwardauth`;
    const res = await new TestClient().get(fa, { cookie: `app=1; ${cookie}; theme=dark` });
    assert.equal(res.status, 204);
    assert.match(res.headers.get('authorization') ?? '', /^Bearer ey/);
    assert.equal(res.headers.get('x-vestibule-cookie'), 'app=1; theme=dark');
    // Wonderwall's ID-token header only with VESTIBULE_FORWARD_AUTH_SET_HEADERS (test/integration/wonderwall-parity).
    assert.equal(res.headers.get('x-wonderwall-forward-auth-token'), null);
    assert.equal((await new TestClient().get(fa)).status, 401);
  });

  it('page-script token theft on the forward-auth listener: browser fetch metadata or an Origin is refused with 403', async () => {
    const fa = `http://127.0.0.1:${forwardAuthPort}/oauth2/session/forwardauth`;
    const browserShapes: Record<string, string>[] = [
      SAME_ORIGIN_FETCH,
      { 'sec-fetch-mode': 'no-cors' },
      { 'sec-fetch-mode': 'same-origin' },
      { 'sec-fetch-dest': 'script' },
      { origin: h.origin },
    ];
    for (const headers of browserShapes) {
      const res = await new TestClient().get(fa, { ...headers, cookie });
      assert.equal(res.status, 403, JSON.stringify(headers));
      assert.equal(res.headers.get('authorization'), null, JSON.stringify(headers));
      assert.equal((JSON.parse(res.body) as { error: string }).error, 'forbidden');
    }
  });

  describe('behind the nginx configuration of docs/forward-auth.md (a real nginx)', () => {
    let nginx: Nginx;
    before(async () => {
      const documented = nginxBlockOf(readFileSync(new URL('../../docs/forward-auth.md', import.meta.url), 'utf8'));
      const vestibulePort = new URL(h.origin).port;
      const upstreamPort = new URL(h.upstream.url).port;
      nginx = await startNginx((port) =>
        documented
          .replaceAll('127.0.0.1:7564', `127.0.0.1:${vestibulePort}`)
          .replaceAll('127.0.0.1:7567', `127.0.0.1:${forwardAuthPort}`)
          .replaceAll('127.0.0.1:8080', `127.0.0.1:${upstreamPort}`)
          .replace(/listen 443 ssl;/, `listen 127.0.0.1:${port};`)
          .replace(/^\s*ssl_certificate.*$/gm, ''),
      );
    });
    after(() => nginx.close());

    it('a navigation reaches the app with the token upstream only; our cookie and spoofed identity headers never do', async () => {
      const res = await new TestClient().get(`${nginx.origin}/reports?y=1`, {
        ...NAVIGATION,
        'sec-fetch-site': 'same-origin',
        cookie: `app=1; ${cookie}`,
        ...SPOOFED,
      });
      assert.equal(res.status, 200, nginx.errorLog());
      assert.equal(res.headers.get('authorization'), null, 'never in a response header');
      const seen = echoed(res).headers;
      assert.match(seen.authorization ?? '', /^Bearer ey/);
      assert.equal(seen.cookie, 'app=1');
      for (const name of Object.keys(SPOOFED)) {
        if (name !== 'authorization') assert.equal(seen[name], undefined, name);
      }
    });

    it("an SPA's same-origin fetch through nginx gets the app's answer, the token only upstream", async () => {
      const res = await new TestClient().get(`${nginx.origin}/api/orders`, { ...SAME_ORIGIN_FETCH, cookie });
      assert.equal(res.status, 200, nginx.errorLog());
      assert.equal(res.headers.get('authorization'), null);
      assert.match(echoed(res).headers.authorization ?? '', /^Bearer ey/);
      assert.equal(echoed(res).headers.cookie, undefined, 'only our cookie was sent: no Cookie header upstream');
    });

    it('page-script token theft through nginx: a same-origin fetch to /oauth2/session/forwardauth gets no Authorization header', async () => {
      const res = await new TestClient().get(`${nginx.origin}/oauth2/session/forwardauth`, {
        ...SAME_ORIGIN_FETCH,
        cookie,
      });
      assert.equal(res.headers.get('authorization'), null);
      assert.ok(res.status === 204 || res.status === 404, String(res.status));
    });

    it('without a session a navigation is sent to login, a fetch gets 401; the app sees neither', async () => {
      const before = h.upstream.seen.length;
      const nav = await new TestClient().get(`${nginx.origin}/reports`, { ...NAVIGATION, ...SPOOFED });
      assert.equal(nav.status, 302);
      assert.equal(new URL(nav.location ?? '', nginx.origin).pathname, '/oauth2/login');
      const api = await new TestClient().get(`${nginx.origin}/api/orders`, SAME_ORIGIN_FETCH);
      assert.equal(api.status, 401);
      assert.equal(h.upstream.seen.length, before);
    });

    it('the way back after login survives any URI: vestibule encodes it, nginx passes it on', async () => {
      const cases = [
        '/reports?y=1',
        '/reports/a:b;c?x=/y?z',
        '/reports?a=1&prompt=login',
        '/reports?a=b+c',
        '/reports?a=%26',
        '/files/a%20b?x=1',
      ];
      for (const uri of cases) {
        const nav = await new TestClient().get(`${nginx.origin}${uri}`, NAVIGATION);
        assert.equal(nav.status, 302, uri);
        const location = new URL(nav.location ?? '', nginx.origin);
        assert.equal(location.pathname, '/oauth2/login', uri);
        assert.deepEqual([...location.searchParams.keys()], ['redirect'], uri);
        assert.equal(location.searchParams.get('redirect'), uri, uri);
      }
    });

    it('a deep link too long to come back to still reaches the login (not a 500 for a header too big for nginx)', async () => {
      for (const uri of [
        `/search?q=${'a'.repeat(4000)}`,
        `/search?q=${'%22'.repeat(1000)}`,
        `/s/${'x'.repeat(8000)}`,
      ]) {
        const nav = await new TestClient().get(`${nginx.origin}${uri}`, NAVIGATION);
        assert.equal(nav.status, 302, `${uri.length} characters: ${nginx.errorLog()}`);
        const location = new URL(nav.location ?? '', nginx.origin);
        assert.equal(location.pathname + location.search, '/oauth2/login', String(uri.length));
      }
    });
  });

  it("the forward-auth listener's 401 names the login URL with the guarded URI encoded; a URI that is no path is left out", async () => {
    const fa = `http://127.0.0.1:${forwardAuthPort}/oauth2/session/forwardauth`;
    const guarded = '/reports?a=1&prompt=login#x';
    const res = await new TestClient().get(fa, { 'x-original-uri': guarded });
    assert.equal(res.status, 401);
    const expected = `/oauth2/login?redirect=${encodeURIComponent(guarded)}`;
    const location = new URL(res.location ?? 'http://none/');
    assert.equal(location.pathname + location.search, expected);
    assert.equal((JSON.parse(res.body) as { login_url?: string }).login_url, expected);
    for (const header of [undefined, 'https://evil.example/x', 'reports']) {
      const bare = await new TestClient().get(fa, header === undefined ? {} : { 'x-original-uri': header });
      assert.equal(bare.status, 401, String(header));
      const where = new URL(bare.location ?? 'http://none/');
      assert.equal(where.pathname + where.search, '/oauth2/login', `${String(header)}: the login, with no way back`);
    }
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness } from '../support/harness.js';
import { TestClient } from '../support/http-client.js';
import { loggedIn, login } from '../support/mock-login.js';
import { sendRaw } from '../support/raw-http.js';
import { taggedGet } from '../support/tagged-get.js';

// Path tricks around /oauth2 and skip-route bypasses (peers.md §4.4; oauth2-proxy CVE-2025-54576,
// GHSA-pxq7-h93f-9jrg; Pomerium CVE-2021-39206), on an unauthenticated AND an authenticated request,
// asserting what reaches the app.

/** What vestibule does with a path: answers it itself, refuses it (4xx), or proxies it unchanged. */
type Fate = 'ours' | 'refused' | 'proxied';

const PATHS: [string, Fate][] = [
  ['/oauth2/../echo', 'ours'],
  ['/oauth2/%2e%2e/echo', 'ours'],
  ['/oauth2/.%2E/echo', 'ours'],
  ['/oauth2/login;x', 'ours'],
  ['/oauth2/session%00', 'ours'],
  ['/oauth2/session/', 'ours'],
  ['/oauth2//session', 'ours'],
  ['/oauth2/./session', 'ours'],
  ['/oauth2/unknown', 'ours'],
  ['/%6fauth2/session', 'ours'], // the router decodes unreserved escapes: this IS /oauth2/session
  ['/x/../oauth2/session', 'refused'],
  ['/x/%2e%2e/oauth2/session', 'refused'],
  ['/x/%2E%2e;/oauth2/session', 'refused'],
  ['/./oauth2/session', 'refused'],
  ['/echo/..', 'refused'],
  ['//oauth2/session', 'refused'],
  ['///oauth2/login', 'refused'],
  ['/\\oauth2/login', 'refused'],
  ['/OAUTH2/session', 'proxied'], // paths are case-sensitive: the app's own
  ['/OAuth2/Login', 'proxied'],
  ['/oauth2;x/session', 'proxied'],
  ['/oauth2%2fsession', 'proxied'], // an encoded slash is not a segment boundary
  ['/oauth2%2Fsession', 'proxied'],
  ['/oauth2', 'proxied'],
  ['/oauth2x/session', 'proxied'],
  ['/echo/..%2foauth2/session', 'refused'], // ".." before an encoded slash: refused by the proxy (400)
  ['/echo?x=/oauth2/session', 'proxied'],
  ['/echo;/oauth2/session', 'proxied'],
];

// Every name src/proxy/upstream-headers.ts replaces or drops, each also sent as X_Snake, X.Dot and UPPER case.
describe('path tricks around /oauth2, with and without a session', () => {
  let h: Harness;
  let cookie: string;
  before(async () => {
    h = await startHarness({ logLevel: 'warn' });
    ({ cookie } = await loggedIn(h));
  });
  after(() => h.close());

  for (const withSession of [false, true]) {
    const label = withSession ? 'with a session' : 'without a session';
    it(`${PATHS.length} path tricks around /oauth2 ${label}: ours stays ours, nothing is rewritten, no 5xx`, async () => {
      const wrong: string[] = [];
      for (const [path, fate] of PATHS) {
        const { status, seen } = await taggedGet(h, path, withSession ? [['Cookie', cookie]] : []);
        const actual: Fate | 'error' =
          status === undefined || status >= 500
            ? 'error'
            : seen
              ? 'proxied'
              : status >= 400 && fate === 'refused'
                ? 'refused'
                : 'ours';
        if (actual !== fate) wrong.push(`${path}: expected ${fate}, got ${actual} (${status})`);
        if (seen) {
          if (seen.url !== path) wrong.push(`${path}: the app saw ${seen.url}`);
          const auth = seen.headers.authorization;
          if (withSession ? !auth?.startsWith('Bearer ey') : auth !== undefined)
            wrong.push(`${path}: authorization ${auth}`);
          if (seen.headers.cookie?.includes('vestibule')) wrong.push(`${path}: our cookie reached the app`);
        }
      }
      assert.deepEqual(wrong, []);
    });
  }
});

describe('auto-login skip-route bypasses, end to end', () => {
  let h: Harness;
  let port: number;
  let probe = 0;
  before(async () => {
    h = await startHarness({
      logLevel: 'warn',
      env: { VESTIBULE_AUTO_LOGIN: 'true', VESTIBULE_AUTO_LOGIN_IGNORE_PATHS: '/public/**' },
    });
    port = Number(new URL(h.origin).port);
  });
  after(() => h.close());

  async function navigate(
    target: string,
    extra: [string, string][] = [],
    method = 'GET',
  ): Promise<{ status: number | undefined; location: string | undefined; proxied: boolean }> {
    const id = `b${++probe}`;
    const lines = [
      `${method} ${target} HTTP/1.1`,
      `Host: ${new URL(h.ingress).host}`,
      `X-Probe: ${id}`,
      'Sec-Fetch-Mode: navigate',
      'Sec-Fetch-Dest: document',
      'Accept: text/html',
    ];
    for (const [n, v] of extra) lines.push(`${n}: ${v}`);
    const res = await sendRaw(port, `${lines.join('\r\n')}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    return {
      status: res.status,
      location: res.headers.get('location'),
      proxied: h.upstream.seen.some((s) => s.headers['x-probe'] === id),
    };
  }

  it('exempt paths in their legitimate spellings reach the app without a session', async () => {
    for (const target of [
      '/public',
      '/public/x',
      '/public/',
      '/public;v=1/x',
      '/%70ublic/x',
      '/favicon.ico',
      '/robots.txt',
    ]) {
      const r = await navigate(target);
      assert.equal(r.proxied, true, `${target}: ${r.status}`);
    }
  });

  it('bypass attempts never reach the app without a session: login redirect, 401 or 400', async () => {
    const attempts: [string, [string, string][]?, string?][] = [
      ['/private'],
      ['/public/../private'],
      ['/public/%2e%2e/private'],
      ['/public/%2E%2E/private'],
      ['/public/.%2e/private'],
      ['/public%2F..%2Fprivate'],
      ['/public%2f..%2fprivate'],
      ['/public%5C..%5Cprivate'],
      ['/public/..;/private'],
      ['/public/;/../private'],
      ['/public//../private'],
      ['/public%00/x'],
      ['/PUBLIC/x'],
      ['/Public/x'],
      ['/public%23/x'],
      ['/publicx'],
      ['/public%20'],
      ['/private?x=/public/a'],
      ['/private?/public/a'],
      ['/private%3f/public/a'],
      ['/private#/public/a'],
      ['/private;/public/a'],
      ['/favicon.ico/../private'],
      ['/favicon.ico%2f..%2fprivate'],
      ['/robots.txt;/../private'],
      ['/private', [['X-Forwarded-Uri', '/public/a']]],
      ['/private', [['X-Original-URL', '/public/a']]],
      ['/private', [['X-Original-URI', '/public/a']]],
      ['/private', [['X-Rewrite-URL', '/public/a']]],
      ['/private', [['X-Forwarded-Prefix', '/public']]],
      ['/private', [['User-Agent', 'kube-probe/1.30']]],
      ['/private', [['User-Agent', 'GoogleHC/1.0']]],
      ['/private', [['X-HTTP-Method-Override', 'GET']], 'POST'],
      [
        '/private',
        [
          ['Access-Control-Request-Method', 'GET'],
          ['Origin', 'http://evil.example'],
        ],
        'OPTIONS',
      ],
      ['/private', [['Authorization', 'Bearer forged']], 'GET'],
    ];
    const leaked: string[] = [];
    for (const [target, headers = [], method = 'GET'] of attempts) {
      const r = await navigate(target, headers, method);
      const blocked =
        r.status === 302
          ? (r.location ?? '').startsWith('/oauth2/login?redirect=')
          : r.status === 401 || r.status === 400;
      if (r.proxied || !blocked)
        leaked.push(`${method} ${target} ${JSON.stringify(headers)} → ${r.status} proxied=${r.proxied}`);
    }
    assert.deepEqual(leaked, []);
  });
});

// Review issue 15, item 4: with /api/** protected, /API/x must not reach the app (Express and ASP.NET route it to
// the handler of /api/x), and /api/ADMIN/x must not skip the roles=admin rule of /api/admin/**.
describe('protected-path case bypass, end to end', () => {
  let h: Harness;
  let cookie: string;
  before(async () => {
    h = await startHarness({
      logLevel: 'warn',
      env: { VESTIBULE_REQUIRE_TOKEN_PATHS: '/api/**,/api/admin/** roles=admin' },
    });
    const browser = new TestClient();
    await login(h, browser);
    cookie = `vestibule.session=${browser.cookie('vestibule.session') ?? ''}`;
  });
  after(() => h.close());

  const SPELLINGS = ['/API/x', '/Api/x', '/%41PI/x', '/%41pi/x', '/aPI/x?y=1', '/API', '/api/ADMIN/x', '/API/Admin'];

  it('other spellings of a protected path never reach the app without a token: 401', async () => {
    const leaked: string[] = [];
    for (const path of SPELLINGS) {
      const { status, seen } = await taggedGet(h, path);
      if (status !== 401 || seen) leaked.push(`${path} → ${status} proxied=${seen !== undefined}`);
    }
    assert.deepEqual(leaked, []);
  });

  it('other spellings of /api/admin/** never reach the app with a session lacking the role: 403', async () => {
    const leaked: string[] = [];
    for (const path of ['/api/ADMIN/x', '/API/ADMIN/x', '/Api/Admin', '/api/%41DMIN/x', '/%61pi/%41dmin/x']) {
      const { status, seen } = await taggedGet(h, path, [['Cookie', cookie]]);
      if (status !== 403 || seen) leaked.push(`${path} → ${status} proxied=${seen !== undefined}`);
    }
    assert.deepEqual(leaked, []);
    // The control: the same session reaches the parts it may reach, in any spelling, with its token.
    for (const path of ['/api/x', '/API/x']) {
      const { status, seen } = await taggedGet(h, path, [['Cookie', cookie]]);
      assert.equal(status, 200, path);
      assert.equal(seen?.url, path);
      assert.match(seen.headers.authorization ?? '', /^Bearer ey/);
    }
  });
});

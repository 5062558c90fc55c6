import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness } from '../support/harness.js';
import { NAVIGATION, TestClient } from '../support/http-client.js';
import { loggedIn } from '../support/mock-login.js';
import { taggedGet } from '../support/tagged-get.js';

// Spoofed forwarding and identity headers (peers.md §4.4; oauth2-proxy CVE-2026-40575, CVE-2025-64484;
// Traefik CVE-2026-54763; mod_auth_openidc's OIDC_CLAIM_* scrubbing), on an unauthenticated AND an
// authenticated request, asserting what reaches the app.

const SPOOFABLE = [
  'Forwarded',
  'X-Forwarded-For',
  'X-Forwarded-Host',
  'X-Forwarded-Proto',
  'X-Forwarded-Port',
  'X-Forwarded-Prefix',
  'X-Forwarded-Uri',
  'X-Forwarded-Path',
  'X-Forwarded-Server',
  'X-Forwarded-Scheme',
  'X-Forwarded-Ssl',
  'X-Original-URL',
  'X-Original-URI',
  'X-Original-Host',
  'X-Original-Method',
  'X-Rewrite-URL',
  'X-Real-IP',
  'X-Client-IP',
  'X-Forwarded-User',
  'X-Forwarded-Email',
  'X-Forwarded-Groups',
  'X-Forwarded-Preferred-Username',
  'X-Forwarded-Access-Token',
  'X-Remote-User',
  'Remote-User',
  'X-User',
  'X-Email',
  'X-Auth-Request-User',
  'X-Auth-Request-Access-Token',
  'X-Vestibule-User',
  'X-Wonderwall-Sid',
  'X-MS-Client-Principal-Name',
  'X-MS-Token-AAD-Access-Token',
  // client certificates, client IPs and other gateways' identity headers (review issue 15, defaults)
  'X-Forwarded-Client-Cert',
  'X-SSL-Client-Cert',
  'X-SSL-Client-Verify',
  'X-SSL-Client-DN',
  'X-SSL-Cert',
  'X-Client-Cert',
  'X-Client-Verify',
  'Ssl-Client-Cert',
  'X-ARR-ClientCert',
  'X-Forwarded-Tls-Client-Cert',
  'True-Client-IP',
  'X-Cluster-Client-IP',
  'CF-Connecting-IP',
  'Client-IP',
  'X-Forwarded',
  'Fastly-Client-IP',
  'X-Original-Forwarded-For',
  'X-Envoy-External-Address',
  'X-Azure-ClientIP',
  'X-Goog-IAP-JWT-Assertion',
  'SM-User',
  'SM-UniversalID',
  'X-Authenticated-User',
];
const OURS = new Set(['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto']);

function variants(name: string): string[] {
  return [name, name.replaceAll('-', '_'), name.replaceAll('-', '.'), name.toUpperCase()];
}

describe('spoofed forwarding and identity headers, with and without a session', () => {
  let h: Harness;
  let cookie: string;
  before(async () => {
    h = await startHarness({ logLevel: 'warn' });
    ({ cookie } = await loggedIn(h));
  });
  after(() => h.close());

  for (const withSession of [false, true]) {
    const label = withSession ? 'with a session' : 'without a session';
    it(`spoofed forwarding and identity headers in ${SPOOFABLE.length * 4} spellings ${label} never reach the app`, async () => {
      const headers: [string, string][] = SPOOFABLE.flatMap((n) =>
        variants(n).map((v): [string, string] => [v, 'spoofed']),
      );
      headers.push(['X-Forwarded-User', 'second'], ['x-forwarded-user', 'third']);
      if (withSession) headers.push(['Cookie', cookie]);
      const { status, seen } = await taggedGet(h, '/echo/spoof', headers);
      assert.equal(status, 200);
      assert.ok(seen);
      const leaked = Object.entries(seen.headers).filter(
        ([name, v]) => !OURS.has(name) && String(v).includes('spoofed'),
      );
      assert.deepEqual(leaked, []);
      assert.equal(seen.headers['x-forwarded-host'], new URL(h.ingress).host);
      assert.equal(seen.headers['x-forwarded-proto'], 'http');
      assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
      assert.equal(seen.headers.authorization?.startsWith('Bearer ey') ?? false, withSession);
    });

    it(`identity headers named in the peers' advisories (Traefik, mod_auth_openidc) ${label} never reach the app`, async () => {
      const names = [
        'X_Auth_User',
        'X-Auth-User',
        'X.Authenticated.User',
        'X-Authenticated-User',
        'OIDC_CLAIM_email',
        'OIDC-Claim-sub',
        'OIDC_access_token',
      ];
      const { seen } = await taggedGet(h, '/echo/peers', [
        ...names.map((n): [string, string] => [n, 'spoofed']),
        ...(withSession ? [['Cookie', cookie] as [string, string]] : []),
      ]);
      assert.ok(seen);
      assert.deepEqual(
        names.filter((n) => seen.headers[n.toLowerCase()] !== undefined),
        [],
      );
    });

    it(`X-Original-URL / X-Rewrite-URL / X-Forwarded-Uri do not re-route a request ${label}`, async () => {
      const rewrite: [string, string][] = [
        ['X-Original-URL', '/oauth2/session'],
        ['X-Rewrite-URL', '/oauth2/logout/local'],
        ['X-Forwarded-Uri', '/oauth2/session'],
        ['X-Forwarded-Prefix', '/oauth2'],
      ];
      const session: [string, string][] = withSession ? [['Cookie', cookie]] : [];
      const proxied = await taggedGet(h, '/echo/rewrite', [...rewrite, ...session]);
      assert.equal(proxied.seen?.url, '/echo/rewrite');
      const ours = await taggedGet(h, '/oauth2/session', [
        ['X-Original-URL', '/echo/x'],
        ['X-Forwarded-Uri', '/echo/x'],
        ...session,
      ]);
      assert.equal(ours.seen, undefined);
      assert.equal(ours.status, withSession ? 200 : 401);
    });
  }

  it('spoofed Host, X-Forwarded-Host and Forwarded on login do not move the redirect URI or the cookie scope', async () => {
    const res = await new TestClient().get(`${h.ingress}/oauth2/login`, {
      ...NAVIGATION,
      host: 'evil.example',
      'x-forwarded-host': 'evil.example',
      'x-forwarded-proto': 'https',
      forwarded: 'host=evil.example;proto=https',
      'x-original-url': '/evil',
    });
    assert.equal(res.status, 302);
    const authorize = new URL(res.location ?? '');
    assert.equal(authorize.searchParams.get('redirect_uri'), `${h.ingress}/oauth2/callback`);
    const set = res.headers.getSetCookie().find((c) => c.startsWith('vestibule.login.')) ?? '';
    assert.match(set, /Path=\/oauth2\/callback/);
    assert.doesNotMatch(set, /Domain=/i);
  });
});

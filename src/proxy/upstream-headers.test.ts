import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { upstreamHeaders } from './upstream-headers.js';

const ctx = {
  accessToken: 'tok',
  remoteAddress: '10.0.0.1',
  trustedPeer: false,
  proto: 'https',
  host: 'app.example',
  requestId: 'r1',
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00',
} as const;

/**
 * Review issue 15 (defaults): headers a TLS-terminating or CDN proxy sets for the app, which apps and their
 * frameworks trust for mTLS identity, client IP (rate limits, allow-lists, audit) and user identity. A client
 * must never be able to send them through vestibule, in any spelling.
 */
const IDENTITY_SPOOFS = [
  // client certificates (Envoy/Istio, nginx, HAProxy, Traefik, Apache mod_ssl, Azure App Service)
  'X-Forwarded-Client-Cert',
  'X-SSL-Client-Cert',
  'X-SSL-Client-Verify',
  'X-SSL-Client-DN',
  'X-SSL-Client-S-DN',
  'X-SSL-Cert',
  'X-Client-Cert',
  'X-Client-Cert-Chain',
  'X-Client-Verify',
  'X-Client-DN',
  'Ssl-Client-Cert',
  'Ssl-Client-Verify',
  'X-ARR-ClientCert',
  'X-Forwarded-Tls-Client-Cert',
  'X-Forwarded-Tls-Client-Cert-Info',
  // client IP (Akamai/Cloudflare, Rackspace, Cloudflare, generic, Fastly, ingress-nginx, Envoy, Azure Front Door)
  'True-Client-IP',
  'X-Cluster-Client-IP',
  'CF-Connecting-IP',
  'CF-Connecting-IPv6',
  'Client-IP',
  'X-Forwarded',
  'Fastly-Client-IP',
  'X-Original-Forwarded-For',
  'X-Envoy-External-Address',
  'X-Azure-ClientIP',
  'X-Azure-SocketIP',
  'X-Forwarded-Client-IP',
  // identity asserted by other gateways (Google IAP, SiteMinder, Apache/CGI REMOTE_USER)
  'X-Goog-IAP-JWT-Assertion',
  // API gateways and zero-trust proxies (found in review)
  'Cf-Access-Authenticated-User-Email',
  'Cf-Access-Jwt-Assertion',
  'X-Pomerium-Claim-Email',
  'X-Pomerium-Jwt-Assertion',
  'X-Consumer-Username',
  'X-Consumer-ID',
  'X-Credential-Identifier',
  'X-Userinfo',
  'Tailscale-User-Login',
  'X-authentik-username',
  'X-JWT-Assertion',
  'X-Endpoint-API-UserInfo',
  'X-Apigateway-Api-Userinfo',
  'X-Original-Forwarded-Host',
  'X-Original-URL',
  'X-Rewrite-URL',
  'SM_USER',
  'SMUSER',
  'SM_UNIVERSALID',
  'Remote-User',
  'X-Remote-User',
  'X-Authenticated-User',
];

function spellings(name: string): string[] {
  const dashed = name.replaceAll('_', '-');
  return [
    name,
    dashed,
    dashed.replaceAll('-', '_'),
    dashed.replaceAll('-', '.'),
    name.toUpperCase(),
    name.toLowerCase(),
  ];
}

describe('upstreamHeaders: client-certificate, client-IP and gateway identity headers', () => {
  for (const name of IDENTITY_SPOOFS) {
    it(`spoofed ${name} never reaches the app, in any spelling`, () => {
      const inbound: Record<string, string> = { 'x-app-header': 'kept' };
      // Node lower-cases header names; the `_` and `.` spellings arrive as they were sent.
      for (const spelling of spellings(name)) inbound[spelling.toLowerCase()] = 'spoofed';
      const out = upstreamHeaders(inbound, ctx);
      const leaked = Object.keys(out).filter((n) => String(out[n]).includes('spoofed'));
      assert.deepEqual(leaked, []);
      assert.equal(out['x-app-header'], 'kept');
    });
  }

  it('keeps look-alike application headers', () => {
    const kept = ['x-client-name', 'client-version', 'x-ssl-mode', 'x-user-agent-hint', 'x-remoteness', 'sm-theme'];
    const out = upstreamHeaders(Object.fromEntries(kept.map((n) => [n, 'v'])), ctx);
    assert.deepEqual(
      kept.filter((n) => out[n] !== 'v'),
      [],
    );
  });
});

describe('upstreamHeaders', () => {
  it('drops hop-by-hop headers, and those the Connection header lists, on the way to the app', () => {
    const out = upstreamHeaders(
      {
        connection: 'keep-alive, x-secret',
        'x-secret': 's',
        te: 'trailers',
        'transfer-encoding': 'chunked',
        'x-ok': '1',
      },
      ctx,
    );
    assert.equal(out['x-secret'], undefined);
    assert.equal(out.connection, undefined);
    assert.equal(out.te, undefined);
    assert.equal(out['transfer-encoding'], undefined);
    assert.equal(out['x-ok'], '1');
  });
  it("keeps the app's cookies without ours, and none when the client lists Cookie as hop-by-hop", () => {
    const cookie = 'theme=dark; vestibule.session=abc; lang=nb';
    assert.equal(upstreamHeaders({ cookie }, ctx).cookie, 'theme=dark; lang=nb');
    assert.equal(upstreamHeaders({ cookie: 'vestibule.session=abc' }, ctx).cookie, undefined);
    const listed = upstreamHeaders({ connection: 'cookie', cookie }, ctx);
    assert.equal(listed.cookie, undefined);
    assert.equal(listed.authorization, 'Bearer tok');
  });
});

describe('upstreamHeaders: trace context', () => {
  it("keeps the caller's tracestate with its trace, and drops it when a new trace replaced a refused traceparent", () => {
    const given = '00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01';
    const kept = upstreamHeaders({ traceparent: given, tracestate: 'vendor=abc' }, ctx);
    assert.equal(kept.traceparent, ctx.traceparent);
    assert.equal(kept.tracestate, 'vendor=abc');
    const replaced = upstreamHeaders(
      { traceparent: 'ff-not-a-trace', tracestate: 'vendor=abc' },
      { ...ctx, traceparent: '00-11111111111111111111111111111111-2222222222222222-00' },
    );
    assert.equal(replaced.tracestate, undefined);
    assert.equal(upstreamHeaders({ tracestate: 'vendor=abc' }, ctx).tracestate, undefined);
  });
});

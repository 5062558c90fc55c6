import type { IncomingHttpHeaders } from 'node:http';
import { stripCookies } from '../cookies/cookie-header.js';
import { COOKIE_PREFIX } from '../cookies/our-cookies.js';
import { connectionListed, isHopByHop } from './hop-by-hop.js';

/**
 * Headers a client must never be able to set for the app: forwarding information (we set it ourselves) and
 * identity headers other proxies use. Compared after lower-casing and mapping '_' and '.' to '-', so
 * `X_Forwarded_User` and `X.Forwarded.User` are caught too (CVE-2025-64484, CVE-2026-54763 classes).
 */
const SPOOFABLE = new Set([
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-uri',
  'x-forwarded-path',
  'x-forwarded-server',
  'x-forwarded-scheme',
  'x-forwarded-ssl',
  'x-original-url',
  'x-original-uri',
  'x-original-host',
  'x-original-method',
  'x-rewrite-url',
  'x-real-ip',
  'x-client-ip',
  'x-forwarded-user',
  'x-forwarded-email',
  'x-forwarded-groups',
  'x-forwarded-preferred-username',
  'x-forwarded-access-token',
  'x-remote-user',
  'remote-user',
  'x-user',
  'x-email',
  'x-auth-user',
  'x-authenticated-user',
  'x-authenticated-userid',
  'x-authenticated-email',
  'x-authenticated-groups',
  'proxy-authorization',
  'cf-access-jwt-assertion',
  'x-pomerium-jwt-assertion',
  'x-webauth-user',
  'remote-email',
  'remote-groups',
  'remote-name',
  // Client certificates as TLS-terminating proxies pass them on (Envoy/Istio XFCC, nginx, HAProxy, Apache
  // mod_ssl, Azure App Service's ARR, Traefik): apps trusting them for mTLS identity must get them from us or
  // not at all (review issue 15).
  'x-forwarded-client-cert',
  'x-ssl-cert',
  'x-client-cert',
  'x-client-verify',
  'x-client-dn',
  'x-arr-clientcert',
  // Client-IP headers CDNs and load balancers set (Akamai, Cloudflare, Fastly, Rackspace, ingress-nginx,
  // Envoy, Azure Front Door); frameworks read them for rate limits, allow-lists and audit logs.
  'x-forwarded',
  'true-client-ip',
  'x-cluster-client-ip',
  'cf-connecting-ip',
  'cf-connecting-ipv6',
  'client-ip',
  'fastly-client-ip',
  'x-original-forwarded-for',
  'x-envoy-external-address',
  'x-azure-clientip',
  'x-azure-socketip',
  // Identity asserted by other gateways: Google IAP, SiteMinder.
  'x-goog-iap-jwt-assertion',
  'sm-user',
  'smuser',
  'sm-universalid',
  // Identity asserted by API gateways and zero-trust proxies (found in review): Kong, WSO2, Google Cloud
  // Endpoints and API Gateway, Envoy/Istio userinfo.
  'x-credential-identifier',
  'x-userinfo',
  'x-jwt-assertion',
  'x-endpoint-api-userinfo',
  'x-apigateway-api-userinfo',
  // IIS/ASP.NET read these as the request's real path (a path override past our rules).
  'x-rewrite-url',
]);
const SPOOFABLE_PREFIXES = [
  // Every X-Forwarded-* is a proxy's statement about the request (X-Forwarded-Client-Cert, -Tls-Client-Cert,
  // -Client-IP, …); we set the ones the app needs after this filter.
  'x-forwarded-',
  'x-ssl-client-',
  'ssl-client-',
  'x-client-cert-',
  'x-goog-iap-',
  'x-auth-request-',
  'x-vestibule-',
  'x-wonderwall-',
  'x-ms-client-principal',
  'x-ms-token-',
  // mod_auth_openidc's claim and token headers
  'oidc-claim-',
  'oidc-access-token',
  'oidc-id-token',
  'x-oidc-',
  'x-remote-',
  'x-amzn-oidc-',
  'x-goog-authenticated-user-',
  // Cloudflare Access, Pomerium, Kong consumers, authentik, Tailscale (found in review).
  'cf-access-',
  'x-pomerium-',
  'x-consumer-',
  'x-authentik-',
  'tailscale-user-',
  // X-Original-URL, -Forwarded-Host, -Forwarded-For …: a proxy's record of the request as it first came in.
  'x-original-',
];

function classify(name: string): boolean {
  const n = name.toLowerCase().replace(/[_.]/g, '-');
  return SPOOFABLE.has(n) || SPOOFABLE_PREFIXES.some((p) => n.startsWith(p));
}

// Browsers send the same few dozen header names again and again: remember the verdict per name (bounded, so
// a client inventing names cannot grow it without limit).
const verdicts = new Map<string, boolean>();
const MAX_VERDICTS = 1024;

function isSpoofable(name: string): boolean {
  let v = verdicts.get(name);
  if (v === undefined) {
    v = classify(name);
    if (verdicts.size >= MAX_VERDICTS) verdicts.clear();
    verdicts.set(name, v);
  }
  return v;
}

export interface UpstreamContext {
  /** The access token of the request's session; absent for an unauthenticated request. */
  readonly accessToken: string | undefined;
  /**
   * The session's ID token, sent as `X-Wonderwall-Id-Token` (VESTIBULE_UPSTREAM_INCLUDE_ID_TOKEN); absent when the
   * setting is off or the request has no session. A client's own header of that name is always dropped.
   */
  readonly idToken?: string | undefined;
  /** The TCP peer address. */
  readonly remoteAddress: string;
  /** Whether the peer is a configured trusted proxy whose X-Forwarded-For chain is kept. */
  readonly trustedPeer: boolean;
  /** The ingress the request came through, for X-Forwarded-Proto/Host. */
  readonly proto: 'http' | 'https';
  readonly host: string;
  readonly requestId: string;
  /** W3C trace context to send (the caller's, or one made for this request). */
  readonly traceparent: string;
}

/**
 * The headers sent to the app: hop-by-hop headers (and those the client's Connection header names) dropped,
 * our cookies removed, spoofable forwarding/identity headers replaced by ours,
 * `Authorization` overwritten with the session's access token (a client's own passes through only when
 * there is no session: the app decides), the original Host kept. Pure: no I/O, input not modified.
 */
export function upstreamHeaders(inbound: IncomingHttpHeaders, ctx: UpstreamContext): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const listed = connectionListed(inbound.connection);
  for (const name in inbound) {
    const v = inbound[name];
    // Cookie is added below without ours; never added then deleted here, which would turn `out` into a slow
    // dictionary-mode object for every header copy after it.
    if (v === undefined || name === 'cookie' || isHopByHop(name) || isSpoofable(name) || listed?.has(name)) continue;
    out[name] = v;
  }
  const cookie = stripCookies(inbound.cookie, COOKIE_PREFIX);
  if (cookie !== undefined && !listed?.has('cookie')) out.cookie = cookie;
  if (ctx.accessToken !== undefined) out.authorization = `Bearer ${ctx.accessToken}`;
  if (ctx.accessToken !== undefined && ctx.idToken !== undefined) out['x-wonderwall-id-token'] = ctx.idToken;
  const chain = ctx.trustedPeer ? inbound['x-forwarded-for'] : undefined;
  const prior = Array.isArray(chain) ? chain.join(', ') : chain;
  out['x-forwarded-for'] = prior ? `${prior}, ${ctx.remoteAddress}` : ctx.remoteAddress;
  out['x-forwarded-proto'] = ctx.proto;
  out['x-forwarded-host'] = ctx.host;
  out['x-request-id'] = ctx.requestId;
  out.traceparent = ctx.traceparent;
  // W3C Trace Context: a tracestate belongs to its trace; when the caller's traceparent was refused and a new
  // trace started, its vendors' state would be attached to a trace it does not describe.
  if (out.tracestate !== undefined && !sameTrace(inbound.traceparent, ctx.traceparent)) delete out.tracestate;
  return out;
}

function sameTrace(given: string | string[] | undefined, sent: string): boolean {
  return typeof given === 'string' && given.length === sent.length && given.slice(3, 35) === sent.slice(3, 35);
}

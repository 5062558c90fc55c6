/**
 * OpenID discovery and JWKS, shaped like Entra's (entra.md C.1, D.4 §1–2). Deliberately absent, as at Entra:
 * `code_challenge_methods_supported`, `authorization_response_iss_parameter_supported`, PAR, introspection,
 * revocation and `frontchannel_logout_session_supported`. `userinfo_endpoint` is left out too: Entra's points at
 * Microsoft Graph, which the mock does not serve.
 */
import { ACR_VALUES, RESPONSE_MODES } from './authorize-request.js';
import type { MockContext } from './context.js';
import { jsonReply, textReply } from './http-io.js';
import type { MockRequest, Reply } from './http-io.js';

/** Entra serves metadata with this header. */
const METADATA_CACHE = { 'cache-control': 'max-age=86400, private' };

/** The discovery document for the context's tenant. */
export function discoveryDocument(ctx: MockContext): Record<string, unknown> {
  const base = `${ctx.url}/${ctx.tenantId}`;
  return {
    token_endpoint: ctx.tokenEndpoint,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_modes_supported: [...RESPONSE_MODES],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: ctx.issuer,
    request_uri_parameter_supported: false,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    claims_supported: [
      'sub',
      'iss',
      'cloud_instance_name',
      'cloud_instance_host_name',
      'cloud_graph_host_name',
      'msgraph_host',
      'aud',
      'exp',
      'iat',
      'auth_time',
      'acr',
      'nonce',
      'preferred_username',
      'name',
      'tid',
      'ver',
      'at_hash',
      'c_hash',
      'email',
    ],
    acr_values_supported: ACR_VALUES,
    ui_locales_supported: ['en', 'nb'],
    tenant_region_scope: 'EU',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
    rbac_url: 'https://pas.windows.net',
  };
}

export function handleDiscovery(ctx: MockContext, req: MockRequest): Reply {
  if (req.method !== 'GET') return textReply(405, 'Method Not Allowed');
  return jsonReply(200, discoveryDocument(ctx), METADATA_CACHE);
}

/** The JWKS; `jwks_down` failures answer 503 instead. */
export function handleJwks(ctx: MockContext, req: MockRequest): Reply {
  if (req.method !== 'GET') return textReply(405, 'Method Not Allowed');
  if (ctx.failures.takeJwksDown()) return textReply(503, 'Service Unavailable');
  return jsonReply(200, ctx.keys.jwks(ctx.issuer), METADATA_CACHE);
}

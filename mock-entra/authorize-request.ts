/**
 * Validation of an authorize request, shared by the login page (GET) and its submission (POST). Stricter than
 * Entra on purpose: PKCE S256, `state`, `nonce` and the `openid` scope are required, so a sidecar that forgets one
 * fails in tests instead of in production.
 */
import { parseClaimsParameter, type RequestedClaims } from './claims-request.js';
import { EntraError } from './errors.js';
import type { Params } from './http-io.js';
import { isPreAuthorized, resolveScope, splitScope } from './scopes.js';
import type { ResolvedScope } from './scopes.js';
import type { MockClient } from './types.js';

export const RESPONSE_MODES = ['query', 'fragment', 'form_post'] as const;
export type ResponseMode = (typeof RESPONSE_MODES)[number];
const PROMPTS = new Set(['login', 'none', 'consent', 'select_account', 'create']);
/** Advertised in discovery so that `acr_values` pass-through can be tested. */
export const ACR_VALUES = ['urn:mock:mfa', 'urn:mock:pwd'];

/** A validated authorize request. */
export interface AuthorizeRequest {
  client: MockClient;
  redirectUri: string;
  responseMode: ResponseMode;
  scope: string;
  resolved: ResolvedScope;
  state: string;
  nonce: string;
  codeChallenge: string;
  prompts: string[];
  maxAge?: number;
  /** First requested `acr_values` entry the mock supports, echoed as the ID token's `acr`. */
  acr?: string;
  /** What the `claims` parameter asked for that the mock puts into the login's tokens. */
  claims?: RequestedClaims;
}

function bad(code: number, text: string): EntraError {
  return new EntraError('invalid_request', code, text);
}

function required(params: Params, name: string): string {
  const value = params.get(name);
  if (!value) throw bad(900144, `The request body must contain the following parameter: '${name}'.`);
  return value;
}

/** Client and redirect URI: until both check out, the mock must never redirect anywhere. */
export function validateClientAndRedirect(
  params: Params,
  clients: ReadonlyMap<string, MockClient>,
  tenantId: string,
): { client: MockClient; redirectUri: string } {
  const clientId = required(params, 'client_id');
  const client = clients.get(clientId);
  if (client === undefined) {
    throw bad(700016, `Application with identifier '${clientId}' was not found in the directory '${tenantId}'.`);
  }
  const redirectUri = required(params, 'redirect_uri');
  if (!(client.redirectUris ?? []).includes(redirectUri)) {
    throw bad(
      50011,
      `The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application '${clientId}'.`,
    );
  }
  return { client, redirectUri };
}

/** Validates every parameter; throws an EntraError whose message the error page shows. */
export function validateAuthorize(
  params: Params,
  clients: ReadonlyMap<string, MockClient>,
  tenantId: string,
): AuthorizeRequest {
  const { client, redirectUri } = validateClientAndRedirect(params, clients, tenantId);
  const responseType = required(params, 'response_type');
  if (responseType !== 'code') {
    throw bad(700054, `response_type '${responseType}' is not enabled for the application; use 'code'.`);
  }
  const responseMode = params.get('response_mode') ?? 'query';
  if (!(RESPONSE_MODES as readonly string[]).includes(responseMode)) {
    throw bad(900144, `response_mode '${responseMode}' is not supported.`);
  }
  const scope = required(params, 'scope');
  if (!splitScope(scope).includes('openid')) throw bad(70011, `The scope '${scope}' must include 'openid'.`);
  const resolved = resolveScope(scope, clients, 28000);
  if (!isPreAuthorized(resolved.target, client.clientId)) {
    throw bad(65001, `The application '${client.clientId}' has no consent for the resource in scope '${scope}'.`);
  }
  const state = required(params, 'state');
  const nonce = required(params, 'nonce');
  const codeChallenge = params.get('code_challenge');
  if (!codeChallenge) throw bad(9002325, 'Proof Key for Code Exchange is required (code_challenge is missing).');
  if (params.get('code_challenge_method') !== 'S256') {
    throw bad(9002325, `code_challenge_method must be 'S256'.`);
  }
  if (!/^[A-Za-z0-9_-]{43}$/.test(codeChallenge)) throw bad(501491, 'Invalid size of Code_Challenge parameter.');
  const prompts = splitScope(params.get('prompt') ?? '');
  const unknownPrompt = prompts.find((p) => !PROMPTS.has(p));
  if (unknownPrompt !== undefined) throw bad(90023, `Invalid prompt value '${unknownPrompt}'.`);
  const maxAgeText = params.get('max_age');
  if (maxAgeText !== undefined && !/^\d+$/.test(maxAgeText)) throw bad(90023, `Invalid max_age '${maxAgeText}'.`);
  const acr = splitScope(params.get('acr_values') ?? '').find((a) => ACR_VALUES.includes(a));
  const claims = parseClaimsParameter(params.get('claims'));
  return {
    client,
    redirectUri,
    responseMode: responseMode as ResponseMode,
    scope,
    resolved,
    state,
    nonce,
    codeChallenge,
    prompts,
    maxAge: maxAgeText === undefined ? undefined : Number(maxAgeText),
    acr,
    ...(claims === undefined ? {} : { claims }),
  };
}

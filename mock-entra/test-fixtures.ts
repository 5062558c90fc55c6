/**
 * Shared fixtures for the mock's own tests: a small tenant (a web app with private_key_jwt, a secret client, an
 * API and a downstream API), client-assertion signing, and helpers that drive the HTTP endpoints like a client.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { SignJWT, importJWK } from 'jose';
import { CLIENT_ASSERTION_TYPE } from './client-auth.js';
import { generateClientJwk, SigningKeyRing } from './keys.js';
import { startMockEntra } from './server.js';
import type { JsonWebKey, MockClient, MockEntra, MockEntraOptions } from './server.js';

export const WEB = {
  clientId: '0a1b2c3d-1111-4111-8111-000000000001',
  name: 'dev-gcp:team:web',
  redirectUri: 'http://localhost:3000/oauth2/callback',
  postLogoutRedirectUri: 'http://localhost:3000/logged-out',
};
export const SECRET_APP = {
  clientId: '0a1b2c3d-2222-4222-8222-000000000002',
  secret: 'secret-app-secret-value',
  redirectUri: 'http://localhost:4000/callback',
};
export const API = { clientId: '0a1b2c3d-3333-4333-8333-000000000003', name: 'dev-gcp:team:api', secret: 'api-secret' };
export const DOWNSTREAM = { clientId: '0a1b2c3d-4444-4444-8444-000000000004', name: 'dev-gcp:other:downstream' };

export interface Fixture {
  mock: MockEntra;
  /** The web app's private key (for client assertions). */
  webKey: JsonWebKey & { kid: string };
  /** The mock's clock (epoch ms), so assertions are signed in the mock's time. */
  clock: () => number;
}

/** Starts a mock with the fixture tenant; `options` may override anything (e.g. `clock`). */
export async function startFixture(options: MockEntraOptions = {}): Promise<Fixture> {
  // The client key and the mock's signing key are generated concurrently: RSA key generation dominates start-up.
  const [{ privateJwk, publicJwk }] = await Promise.all([generateClientJwk(), SigningKeyRing.create()]);
  const clients: MockClient[] = [
    {
      clientId: WEB.clientId,
      name: WEB.name,
      publicJwks: { keys: [publicJwk] },
      redirectUris: [WEB.redirectUri],
      postLogoutRedirectUris: [WEB.postLogoutRedirectUri],
    },
    { clientId: SECRET_APP.clientId, clientSecret: SECRET_APP.secret, redirectUris: [SECRET_APP.redirectUri] },
    { clientId: API.clientId, name: API.name, clientSecret: API.secret, preAuthorizedClientIds: [WEB.clientId] },
    { clientId: DOWNSTREAM.clientId, name: DOWNSTREAM.name, preAuthorizedClientIds: [API.clientId] },
  ];
  const mock = await startMockEntra({ clients, ...options });
  return { mock, webKey: privateJwk, clock: options.clock ?? Date.now };
}

/** A client assertion as Texas/Wonderwall sign it (RS256, kid, aud = issuer unless overridden). */
export async function signAssertion(
  key: JsonWebKey & { kid: string },
  o: { clientId: string; aud: string | string[]; now?: number; lifetime?: number; jti?: string | null; sub?: string },
): Promise<string> {
  const now = o.now ?? Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: o.clientId,
    sub: o.sub ?? o.clientId,
    aud: o.aud,
    iat: now,
    nbf: now,
    exp: now + (o.lifetime ?? 120),
  };
  if (o.jti !== null) claims.jti = o.jti ?? randomUUID();
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid })
    .sign(await importJWK(key, 'RS256'));
}

/** Form fields authenticating the fixture web app with a fresh assertion. */
export async function webAuth(f: Fixture): Promise<Record<string, string>> {
  const now = Math.floor(f.clock() / 1000);
  return {
    client_id: WEB.clientId,
    client_assertion_type: CLIENT_ASSERTION_TYPE,
    client_assertion: await signAssertion(f.webKey, { clientId: WEB.clientId, aud: f.mock.issuer, now }),
  };
}

export interface TokenResult {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

/** POSTs a form to the token endpoint and parses the JSON answer (`{}` when not JSON). */
export async function postToken(
  mock: MockEntra,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<TokenResult> {
  const res = await fetch(mock.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  });
  const text = await res.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { text };
  }
  return { status: res.status, body, headers: res.headers };
}

/** PKCE pair. */
export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export function authorizeUrl(mock: MockEntra): string {
  return `${mock.url}/${mock.tenantId}/oauth2/v2.0/authorize`;
}

/** Authorize parameters for the web app; `overrides` with value undefined removes a parameter. */
export function authorizeParams(
  challenge: string,
  overrides: Record<string, string | undefined> = {},
): Record<string, string> {
  const params: Record<string, string | undefined> = {
    client_id: WEB.clientId,
    redirect_uri: WEB.redirectUri,
    response_type: 'code',
    response_mode: 'query',
    scope: `openid profile offline_access api://${WEB.clientId}/.default`,
    state: 'state-123',
    nonce: 'nonce-456',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...overrides,
  };
  return Object.fromEntries(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined));
}

/** Submits the login form as a browser would after the user picked `username`; returns the redirect. */
export async function submitLogin(
  mock: MockEntra,
  params: Record<string, string>,
  username: string,
): Promise<Response> {
  return fetch(authorizeUrl(mock), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...params, username }),
  });
}

/** Logs the first user in and returns the callback parameters plus the PKCE verifier. */
export async function loginForCode(
  mock: MockEntra,
  overrides: Record<string, string | undefined> = {},
  username = mock.users[0]?.username ?? '',
): Promise<{ code: string; sessionState: string; verifier: string; params: Record<string, string> }> {
  const { verifier, challenge } = pkce();
  const params = authorizeParams(challenge, overrides);
  const res = await submitLogin(mock, params, username);
  const location = new URL(res.headers.get('location') ?? 'http://invalid/');
  const code = location.searchParams.get('code');
  const sessionState = location.searchParams.get('session_state');
  if (res.status !== 302 || code === null || sessionState === null) {
    throw new Error(`login failed: ${res.status} ${await res.text()}`);
  }
  return { code, sessionState, verifier, params };
}

/** Logs in and redeems the code with a private_key_jwt assertion. */
export async function loginForTokens(
  f: Fixture,
  overrides: Record<string, string | undefined> = {},
): Promise<TokenResult & { sessionState: string }> {
  const { code, sessionState, verifier, params } = await loginForCode(f.mock, overrides);
  const result = await postToken(f.mock, {
    grant_type: 'authorization_code',
    code,
    ...(params.redirect_uri === undefined ? {} : { redirect_uri: params.redirect_uri }),
    code_verifier: verifier,
    ...(await webAuth(f)),
  });
  return { ...result, sessionState };
}

/** Decodes a JWT segment without verification. */
export function decodePart(jwt: unknown, index: 0 | 1): Record<string, unknown> {
  if (typeof jwt !== 'string') throw new Error('not a JWT');
  return JSON.parse(Buffer.from(jwt.split('.')[index] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

/**
 * Client authentication at the token endpoint: `private_key_jwt` (the NAIS way), `client_secret_post`,
 * `client_secret_basic`, and federated tokens of external issuers (workload identity, federated-credentials.ts). Stricter than Entra where that catches sidecar bugs early: assertions must carry `jti`
 * and `exp`, live at most 600 s and are single-use.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { compactVerify, createLocalJWKSet, decodeJwt } from 'jose';
import type { JWTPayload } from 'jose';
import { EntraError, missingParameter } from './errors.js';
import { checkFederatedAssertion, isFederatedAssertion } from './federated-credentials.js';
import { nowSeconds } from './context.js';
import type { MockContext } from './context.js';
import type { Params } from './http-io.js';
import type { Azpacr } from './token-issuer.js';
import type { MockClient } from './types.js';

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Longest accepted assertion lifetime (seconds). */
export const MAX_ASSERTION_LIFETIME = 600;
/** Tolerance for an assertion's `iat`/`nbf` lying in the future (seconds). */
const FUTURE_SKEW = 60;
const ASSERTION_ALGS = ['RS256', 'PS256', 'RS384', 'PS384', 'RS512', 'PS512'];

export interface AuthenticatedClient {
  client: MockClient;
  azpacr: Azpacr;
}

function invalidClient(code: number, text: string): EntraError {
  return new EntraError('invalid_client', code, text);
}

/**
 * Checks the claims of a signature-verified client assertion; returns the problem, or undefined when valid.
 * Pure, so every rule is table-testable.
 */
export function assertionClaimsProblem(
  payload: JWTPayload,
  o: { clientId: string; issuer: string; tokenEndpoint: string; now: number },
): EntraError | undefined {
  if (payload.iss !== o.clientId) {
    return invalidClient(700021, `Client assertion application identifier doesn't match 'client_id' parameter.`);
  }
  if (payload.sub !== payload.iss)
    return invalidClient(50048, 'Subject mismatches Issuer claim in the client assertion.');
  const aud = Array.isArray(payload.aud) && payload.aud.length === 1 ? payload.aud[0] : payload.aud;
  if (aud !== o.issuer && aud !== o.tokenEndpoint) {
    return invalidClient(700027, `Client assertion audience must be '${o.tokenEndpoint}' or '${o.issuer}'.`);
  }
  if (typeof payload.exp !== 'number') return invalidClient(700024, `Client assertion must contain 'exp'.`);
  if (payload.exp <= o.now) return invalidClient(700024, 'Client assertion is not within its valid time range.');
  if (payload.iat !== undefined && typeof payload.iat !== 'number') return invalidClient(700024, `Invalid 'iat'.`);
  if (payload.nbf !== undefined && typeof payload.nbf !== 'number') return invalidClient(700024, `Invalid 'nbf'.`);
  if ((payload.iat ?? 0) > o.now + FUTURE_SKEW || (payload.nbf ?? 0) > o.now + FUTURE_SKEW) {
    return invalidClient(700024, 'Client assertion is not within its valid time range (issued in the future).');
  }
  if (payload.exp - (payload.iat ?? o.now) > MAX_ASSERTION_LIFETIME) {
    return invalidClient(700024, `Client assertion lifetime exceeds ${MAX_ASSERTION_LIFETIME} seconds.`);
  }
  if (typeof payload.jti !== 'string' || payload.jti.length === 0) {
    return invalidClient(700027, `Client assertion must contain a 'jti' claim.`);
  }
  return undefined;
}

function lookupClient(ctx: MockContext, clientId: string): MockClient {
  const client = ctx.clients.get(clientId);
  if (client === undefined) {
    throw new EntraError(
      'unauthorized_client',
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${ctx.tenantId}'.`,
    );
  }
  return client;
}

function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

function checkSecret(ctx: MockContext, clientId: string, secret: string): AuthenticatedClient {
  const client = lookupClient(ctx, clientId);
  if (client.clientSecret === undefined || !sameSecret(client.clientSecret, secret)) {
    throw invalidClient(
      7000215,
      `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
    );
  }
  return { client, azpacr: '1' };
}

function parseBasic(header: string): { clientId: string; secret: string } {
  const decoded = Buffer.from(header.slice('basic '.length).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw invalidClient(7000215, 'Malformed HTTP Basic client credentials.');
  try {
    return {
      clientId: decodeURIComponent(decoded.slice(0, colon)),
      secret: decodeURIComponent(decoded.slice(colon + 1)),
    };
  } catch {
    throw invalidClient(7000215, 'Malformed HTTP Basic client credentials.');
  }
}

async function checkAssertion(ctx: MockContext, form: Params): Promise<AuthenticatedClient> {
  const assertion = form.get('client_assertion');
  const type = form.get('client_assertion_type');
  if (!assertion) throw missingParameter('client_assertion');
  if (!type) throw missingParameter('client_assertion_type');
  if (type !== CLIENT_ASSERTION_TYPE) throw invalidClient(70002, `Unsupported client_assertion_type '${type}'.`);
  let unverified: JWTPayload;
  try {
    unverified = decodeJwt(assertion);
  } catch {
    throw invalidClient(700027, 'Client assertion is not a well-formed JWT.');
  }
  const formClientId = form.get('client_id');
  const clientId = formClientId ?? (typeof unverified.iss === 'string' ? unverified.iss : '');
  const client = lookupClient(ctx, clientId);
  if (isFederatedAssertion(client, unverified)) {
    await checkFederatedAssertion(ctx.federatedIssuers, client, assertion, unverified, nowSeconds(ctx));
    return { client, azpacr: '2' };
  }
  if (client.publicJwks === undefined)
    throw invalidClient(700027, `No certificate is registered for app '${clientId}'.`);
  let payload: JWTPayload;
  try {
    const verified = await compactVerify(assertion, createLocalJWKSet(client.publicJwks), {
      algorithms: ASSERTION_ALGS,
    });
    payload = JSON.parse(new TextDecoder().decode(verified.payload)) as JWTPayload;
  } catch {
    throw invalidClient(700027, 'Client assertion failed signature validation.');
  }
  const now = nowSeconds(ctx);
  const problem = assertionClaimsProblem(payload, {
    clientId,
    issuer: ctx.issuer,
    tokenEndpoint: ctx.tokenEndpoint,
    now,
  });
  if (problem !== undefined) throw problem;
  rememberJti(ctx, `${clientId} ${String(payload.jti)}`, payload.exp ?? now, now);
  return { client, azpacr: '2' };
}

/** Single use of assertions: replay of a `jti` is refused until the assertion has expired anyway. */
function rememberJti(ctx: MockContext, key: string, exp: number, now: number): void {
  for (const [seen, expiry] of ctx.seenAssertions) if (expiry <= now) ctx.seenAssertions.delete(seen);
  if (ctx.seenAssertions.has(key)) {
    throw invalidClient(700027, 'Client assertion has already been used (jti replay).');
  }
  ctx.seenAssertions.set(key, exp);
}

/** Authenticates the client of a token request, or throws the EntraError Entra would answer with. */
export async function authenticateClient(
  ctx: MockContext,
  form: Params,
  authorization: string | undefined,
): Promise<AuthenticatedClient> {
  const basic = authorization?.toLowerCase().startsWith('basic ') === true;
  const usesAssertion = form.has('client_assertion') || form.has('client_assertion_type');
  const usesSecret = form.has('client_secret');
  if (Number(basic) + Number(usesAssertion) + Number(usesSecret) > 1) {
    throw invalidClient(50012, 'More than one client authentication method was used.');
  }
  if (usesAssertion) return checkAssertion(ctx, form);
  const formClientId = form.get('client_id');
  if (basic) {
    const { clientId, secret } = parseBasic(authorization);
    if (formClientId !== undefined && formClientId !== clientId) {
      throw invalidClient(700021, `The 'client_id' parameter doesn't match the HTTP Basic credentials.`);
    }
    return checkSecret(ctx, clientId, secret);
  }
  const secret = form.get('client_secret');
  if (secret !== undefined) {
    if (!formClientId) throw missingParameter('client_id');
    return checkSecret(ctx, formClientId, secret);
  }
  if (formClientId !== undefined) lookupClient(ctx, formClientId);
  throw invalidClient(
    7000218,
    `The request body must contain the following parameter: 'client_assertion' or 'client_secret'.`,
  );
}

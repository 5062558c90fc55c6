/**
 * Workload identity federation: an app registration's federated identity credentials. A client assertion that
 * is not self-issued (its `iss` is not the client id) is a token of an external issuer, e.g. a Kubernetes
 * cluster's projected service-account token; it authenticates the client when a credential of the app names
 * its issuer, subject and audience, and the issuer's key (which the mock is given, where Entra fetches the
 * issuer's JWKS) verifies it. Unlike the app's own assertions it is not single-use: a pod sends the same
 * projected token until the kubelet rotates it.
 */
import { compactVerify, createLocalJWKSet } from 'jose';
import type { JWTPayload } from 'jose';
import { EntraError } from './errors.js';
import type { MockClient, MockFederatedCredential, MockFederatedIssuer } from './types.js';

/** The audience Entra expects in a federated token (Azure Workload Identity projects tokens for it). */
export const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';
/** Longest accepted lifetime of a federated token (Kubernetes allows projected tokens of up to a day). */
export const MAX_FEDERATED_LIFETIME = 86_400;
/** Tolerance for `iat`/`nbf` in the future, and for `exp` in the past (seconds). */
const SKEW = 60;
const ALGS = ['RS256', 'PS256', 'RS384', 'PS384', 'RS512', 'PS512', 'ES256', 'ES384'];

/** Whether `payload` (not yet verified) is a federated token for `client` rather than its own assertion. */
export function isFederatedAssertion(client: MockClient, payload: JWTPayload): boolean {
  return client.federatedCredentials !== undefined && payload.iss !== client.clientId;
}

function invalidClient(code: number, text: string): EntraError {
  return new EntraError('invalid_client', code, text);
}

/**
 * Checks a federated token's claims against the client's credentials; returns the problem, or undefined when
 * valid. Pure, so every rule is table-testable.
 */
export function federatedClaimsProblem(
  payload: JWTPayload,
  credentials: readonly MockFederatedCredential[],
  now: number,
): EntraError | undefined {
  const iss = String(payload.iss);
  const byIssuer = credentials.filter((c) => c.issuer === iss);
  if (byIssuer.length === 0) {
    return invalidClient(
      700211,
      `No matching federated identity record found for presented assertion issuer '${iss}'.`,
    );
  }
  const bySubject = byIssuer.filter((c) => c.subject === payload.sub);
  if (bySubject.length === 0) {
    return invalidClient(
      700213,
      `No matching federated identity record found for presented assertion subject '${String(payload.sub)}'.`,
    );
  }
  const auds = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (!bySubject.some((c) => (c.audiences ?? [TOKEN_EXCHANGE_AUDIENCE]).some((a) => auds.includes(a)))) {
    return invalidClient(
      700212,
      `No matching federated identity record found for presented assertion audience '${auds.join(',')}'.`,
    );
  }
  if (typeof payload.exp !== 'number') return invalidClient(700024, `Client assertion must contain 'exp'.`);
  if (payload.exp + SKEW <= now) return invalidClient(700024, 'Client assertion is not within its valid time range.');
  if ((payload.iat ?? 0) > now + SKEW || (payload.nbf ?? 0) > now + SKEW) {
    return invalidClient(700024, 'Client assertion is not within its valid time range (issued in the future).');
  }
  if (payload.exp - (payload.iat ?? now) > MAX_FEDERATED_LIFETIME) {
    return invalidClient(700024, `Client assertion lifetime exceeds ${MAX_FEDERATED_LIFETIME} seconds.`);
  }
  return undefined;
}

/**
 * Verifies a federated token for `client`: the issuer must be known (its keys), the signature valid, and a
 * credential of the client must match; throws the EntraError Entra would answer with.
 */
export async function checkFederatedAssertion(
  issuers: ReadonlyMap<string, MockFederatedIssuer>,
  client: MockClient,
  assertion: string,
  unverified: JWTPayload,
  now: number,
): Promise<void> {
  const iss = typeof unverified.iss === 'string' ? unverified.iss : '';
  const known = issuers.get(iss);
  const credentials = client.federatedCredentials ?? [];
  if (known === undefined || !credentials.some((c) => c.issuer === iss)) {
    // Entra looks the issuer up among the app's credentials first; an issuer it has no keys for fails the same way.
    throw invalidClient(700211, `No matching federated identity record found for presented assertion issuer '${iss}'.`);
  }
  let payload: JWTPayload;
  try {
    const verified = await compactVerify(assertion, createLocalJWKSet(known.jwks), { algorithms: ALGS });
    payload = JSON.parse(new TextDecoder().decode(verified.payload)) as JWTPayload;
  } catch {
    throw invalidClient(700027, 'Client assertion failed signature validation.');
  }
  const problem = federatedClaimsProblem(payload, credentials, now);
  if (problem !== undefined) throw problem;
}

/**
 * Signing and verifying the mock's own JWTs. Header is `{alg:"RS256", typ:"JWT", kid}` like Entra v2 tokens.
 */
import { createHash } from 'node:crypto';
import { SignJWT, compactVerify, createLocalJWKSet, decodeProtectedHeader } from 'jose';
import type { JWTPayload } from 'jose';
import { opaqueId } from './claims.js';
import type { SigningKey, SigningKeyRing } from './keys.js';

/** Signs `claims` with the ring's current key. */
export async function signToken(claims: Record<string, unknown>, key: SigningKey): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid }).sign(key.privateKey);
}

/**
 * A Microsoft Graph style access token: the header carries a `nonce` and the signature covers its SHA-256, so
 * standard JWT libraries cannot verify it. Real Graph tokens behave this way, which is exactly why a client must
 * never try to validate an access token meant for another resource.
 */
export async function signGraphToken(claims: Record<string, unknown>, key: SigningKey): Promise<string> {
  const nonce = opaqueId(32);
  const hashed = createHash('sha256').update(nonce).digest('base64url');
  const signed = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', nonce: hashed, kid: key.kid })
    .sign(key.privateKey);
  const [, payload, signature] = signed.split('.');
  const header = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT', nonce, kid: key.kid })).toString('base64url');
  return [header, payload, signature].join('.');
}

/** Why a token the mock is asked to accept back (OBO assertion, id_token_hint) was refused. */
export type OwnTokenProblem = 'malformed' | 'signature' | 'issuer';

/**
 * Verifies the signature (any key still in the JWKS) and the issuer of a token this mock issued. Time claims are
 * left to the caller: OBO needs its own error code for expiry, and an id_token_hint may be expired.
 */
export async function verifyOwnToken(
  jwt: string,
  keys: SigningKeyRing,
  issuer: string,
): Promise<{ ok: true; payload: JWTPayload } | { ok: false; problem: OwnTokenProblem }> {
  try {
    const header = decodeProtectedHeader(jwt);
    if (header.alg !== 'RS256') return { ok: false, problem: 'signature' };
  } catch {
    return { ok: false, problem: 'malformed' };
  }
  let payload: JWTPayload;
  try {
    const jwks = createLocalJWKSet(keys.publicKeySet());
    const result = await compactVerify(jwt, jwks, { algorithms: ['RS256'] });
    payload = JSON.parse(new TextDecoder().decode(result.payload)) as JWTPayload;
  } catch {
    return { ok: false, problem: 'signature' };
  }
  if (typeof payload !== 'object') return { ok: false, problem: 'malformed' };
  if (payload.iss !== issuer) return { ok: false, problem: 'issuer' };
  return { ok: true, payload };
}

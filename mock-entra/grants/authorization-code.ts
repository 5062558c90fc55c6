/**
 * `grant_type=authorization_code` (entra.md C.2): single-use code, 10-minute TTL, bound to client, redirect URI
 * and PKCE S256 challenge. A code is burnt by any redemption attempt of its own client, successful or not.
 */
import { createHash } from 'node:crypto';
import { userClaimsOf } from '../claims.js';
import { EntraError, missingParameter } from '../errors.js';
import { resolveScope, splitScope } from '../scopes.js';
import { issueIdToken, issueRefreshToken, issueUserAccessToken, tokenResponseBody } from '../token-issuer.js';
import type { GrantHandler } from './grant-handler.js';

/** Authorization codes live 10 minutes, like Entra's. */
export const CODE_TTL_MS = 10 * 60 * 1000;

/** RFC 7636 S256: BASE64URL(SHA256(verifier)). */
export function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

export const authorizationCodeGrant: GrantHandler = async (ctx, form, caller) => {
  const code = form.get('code');
  if (!code) throw missingParameter('code');
  const redirectUri = form.get('redirect_uri');
  if (!redirectUri) throw missingParameter('redirect_uri');
  const entry = ctx.codes.get(code);
  if (entry?.clientId !== caller.client.clientId) {
    throw new EntraError('invalid_grant', 70000, `The provided value for the 'code' parameter is not valid.`);
  }
  if (entry.used) {
    throw new EntraError(
      'invalid_grant',
      54005,
      'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.',
    );
  }
  entry.used = true;
  if (ctx.clock() - entry.issuedAt > CODE_TTL_MS) {
    throw new EntraError(
      'invalid_grant',
      70008,
      'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
    );
  }
  if (redirectUri !== entry.redirectUri) {
    throw new EntraError(
      'invalid_grant',
      50011,
      `The redirect URI '${redirectUri}' specified in the request does not match the redirect URI the authorization code was issued for.`,
    );
  }
  const verifier = form.get('code_verifier');
  if (verifier === undefined || s256(verifier) !== entry.codeChallenge) {
    throw new EntraError(
      'invalid_grant',
      501481,
      'The Code_Verifier does not match the code_challenge supplied in the authorization request.',
    );
  }
  const resolved = resolveScope(entry.scope, ctx.clients, 28000);
  const user = userClaimsOf(entry.user);
  const clientId = caller.client.clientId;
  const [accessToken, idToken] = await Promise.all([
    issueUserAccessToken(ctx, {
      resolved,
      azp: clientId,
      azpacr: caller.azpacr,
      user,
      sid: entry.sid,
      claims: entry.claims,
    }),
    issueIdToken(ctx, {
      clientId,
      user,
      sid: entry.sid,
      nonce: entry.nonce,
      authTime: entry.authTime,
      acr: entry.acr,
      claims: entry.claims,
    }),
  ]);
  const refreshToken = splitScope(entry.scope).includes('offline_access')
    ? issueRefreshToken(ctx, {
        clientId,
        user,
        scope: entry.scope,
        sid: entry.sid,
        authTime: entry.authTime,
        acr: entry.acr,
        claims: entry.claims,
      })
    : undefined;
  return tokenResponseBody(ctx, {
    scope: entry.scope,
    accessToken,
    idToken,
    refreshToken,
  });
};

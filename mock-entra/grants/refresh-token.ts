/**
 * `grant_type=refresh_token` (entra.md C.3). Rolling like Entra: every use returns a NEW refresh token and the
 * old one stays valid (Entra does not revoke it). Refresh tokens are bound to user and client, not resource, so
 * an optional `scope` may name another (pre-authorized) resource.
 */
import { EntraError, missingParameter } from '../errors.js';
import { isPreAuthorized, resolveScope, splitScope } from '../scopes.js';
import { issueIdToken, issueRefreshToken, issueUserAccessToken, tokenResponseBody } from '../token-issuer.js';
import type { GrantHandler } from './grant-handler.js';

/** Entra's default refresh-token lifetime: 90 days. */
export const REFRESH_TOKEN_TTL_MS = 90 * 24 * 3600 * 1000;

export const refreshTokenGrant: GrantHandler = async (ctx, form, caller) => {
  const token = form.get('refresh_token');
  if (!token) throw missingParameter('refresh_token');
  const grant = ctx.refreshTokens.get(token);
  if (grant === undefined) {
    throw new EntraError('invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid.');
  }
  const clientId = caller.client.clientId;
  if (grant.clientId !== clientId) {
    throw new EntraError(
      'invalid_grant',
      70000,
      'Provided grant is invalid or malformed: it was issued to another client.',
    );
  }
  if (grant.revoked) {
    throw new EntraError(
      'invalid_grant',
      50173,
      'The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.',
    );
  }
  if (ctx.clock() - grant.issuedAt > REFRESH_TOKEN_TTL_MS) {
    throw new EntraError('invalid_grant', 700082, 'The refresh token has expired due to inactivity.');
  }
  const scope = form.get('scope') ?? grant.scope;
  const resolved = resolveScope(scope, ctx.clients, 28000);
  if (!isPreAuthorized(resolved.target, clientId)) {
    throw new EntraError(
      'invalid_grant',
      65001,
      `The user or administrator has not consented to use the application with ID '${clientId}'. Send an interactive authorization request for this user and resource.`,
    );
  }
  const accessToken = await issueUserAccessToken(ctx, {
    resolved,
    azp: clientId,
    azpacr: caller.azpacr,
    user: grant.user,
    sid: grant.sid,
    claims: grant.claims,
  });
  const idToken = splitScope(grant.scope).includes('openid')
    ? await issueIdToken(ctx, {
        clientId,
        user: grant.user,
        sid: grant.sid,
        authTime: grant.authTime,
        acr: grant.acr,
        claims: grant.claims,
      })
    : undefined;
  const refreshToken = issueRefreshToken(ctx, {
    clientId,
    user: grant.user,
    scope: grant.scope,
    sid: grant.sid,
    authTime: grant.authTime,
    acr: grant.acr,
    claims: grant.claims,
  });
  return tokenResponseBody(ctx, { scope, accessToken, idToken, refreshToken });
};

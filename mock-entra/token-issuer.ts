/**
 * Mints the tokens the grants hand out: claims from claims.ts, signed with the current key, lifetimes and times
 * from the server's context. Also builds the token-endpoint JSON response.
 */
import type { UserClaims } from './claims.js';
import { accessTokenExtras, idTokenExtras, type RequestedClaims } from './claims-request.js';
import { appAccessTokenClaims, idTokenClaims, opaqueId, userAccessTokenClaims, userClaimsOf } from './claims.js';
import { claimContext } from './context.js';
import type { MockContext, RefreshGrant } from './context.js';
import { scpClaim, targetAudience } from './scopes.js';
import type { ResolvedScope, Target } from './scopes.js';
import { signGraphToken, signToken } from './tokens.js';
import type { MockUser } from './types.js';

/** `azpacr`: "2" for a certificate / private_key_jwt, "1" for a secret. */
export type Azpacr = '1' | '2';

/** A delegated access token for the resolved target (a Graph-style unverifiable token for Graph). */
export async function issueUserAccessToken(
  ctx: MockContext,
  o: {
    resolved: ResolvedScope;
    azp: string;
    azpacr: Azpacr;
    user: UserClaims;
    sid?: string;
    claims?: RequestedClaims | undefined;
  },
): Promise<string> {
  const claims = {
    ...userAccessTokenClaims(claimContext(ctx, ctx.lifetimes.accessToken), {
      audience: targetAudience(o.resolved.target),
      azp: o.azp,
      azpacr: o.azpacr,
      user: o.user,
      scp: scpClaim(o.resolved),
      ...(o.sid === undefined ? {} : { sid: o.sid }),
    }),
    ...accessTokenExtras(o.claims),
  };
  const key = ctx.keys.current();
  return o.resolved.target.kind === 'graph' ? signGraphToken(claims, key) : signToken(claims, key);
}

/** An app-only access token (client credentials). */
export async function issueAppAccessToken(
  ctx: MockContext,
  o: { target: Target; azp: string; azpacr: Azpacr },
): Promise<string> {
  const caller = ctx.clients.get(o.azp);
  const azpName = caller?.name;
  const claims = appAccessTokenClaims(claimContext(ctx, ctx.lifetimes.accessToken), {
    audience: targetAudience(o.target),
    azp: o.azp,
    azpacr: o.azpacr,
    ...(azpName === undefined ? {} : { azpName }),
    // Graph's app tokens carry the Graph permissions the app was granted, not the app's own roles.
    ...(o.target.kind === 'graph' ? { roles: caller?.graphApplicationPermissions ?? ['GroupMember.Read.All'] } : {}),
  });
  return signToken(claims, ctx.keys.current());
}

/** What `MockEntra.mintAccessToken` accepts; see there. */
export interface MintOptions {
  audience: string;
  user?: MockUser;
  appClientId?: string;
  azp?: string;
  lifetime?: number;
  extraClaims?: Record<string, unknown>;
}

/**
 * A token exactly as the token endpoint would mint it, for tests: an app token when `appClientId` is given, else a
 * user token (default: the first user). `aud` is taken literally. `extraClaims` win over the standard ones; a
 * claim set to undefined there is dropped from the token.
 */
export async function mintAccessToken(ctx: MockContext, o: MintOptions): Promise<string> {
  const claimCtx = claimContext(ctx, o.lifetime ?? ctx.lifetimes.accessToken);
  const azp = o.azp ?? o.appClientId ?? o.audience;
  const azpClient = ctx.clients.get(azp);
  const azpacr: Azpacr = azpClient !== undefined && azpClient.publicJwks === undefined ? '1' : '2';
  let claims: Record<string, unknown>;
  if (o.appClientId !== undefined) {
    claims = appAccessTokenClaims(claimCtx, { audience: o.audience, azp, azpacr, azpName: azpClient?.name });
  } else {
    const user = o.user ?? ctx.users.at(0);
    if (user === undefined) throw new Error('mintAccessToken: the mock has no users');
    claims = userAccessTokenClaims(claimCtx, {
      audience: o.audience,
      azp,
      azpacr,
      user: userClaimsOf(user),
      scp: 'defaultaccess',
    });
  }
  return signToken({ ...claims, ...o.extraClaims }, ctx.keys.current());
}

/** An ID token for the client the user signed in to. */
export async function issueIdToken(
  ctx: MockContext,
  o: {
    clientId: string;
    user: UserClaims;
    sid: string;
    nonce?: string;
    authTime?: number;
    acr?: string;
    claims?: RequestedClaims | undefined;
  },
): Promise<string> {
  const claims = { ...idTokenClaims(claimContext(ctx, ctx.lifetimes.idToken), o), ...idTokenExtras(o.claims) };
  return signToken(claims, ctx.keys.current());
}

/** A new opaque refresh token standing for `grant`. */
export function issueRefreshToken(ctx: MockContext, grant: Omit<RefreshGrant, 'issuedAt' | 'revoked'>): string {
  const token = `1.A${opaqueId(96)}`;
  ctx.refreshTokens.set(token, { ...grant, issuedAt: ctx.clock(), revoked: false });
  return token;
}

/** The token endpoint's success body, Entra's member order. */
export function tokenResponseBody(
  ctx: MockContext,
  o: { scope?: string; accessToken: string; idToken?: string; refreshToken?: string },
): Record<string, unknown> {
  const expiresIn = ctx.lifetimes.accessToken;
  return {
    token_type: 'Bearer',
    ...(o.scope === undefined ? {} : { scope: o.scope }),
    expires_in: expiresIn,
    ext_expires_in: expiresIn,
    access_token: o.accessToken,
    ...(o.refreshToken === undefined ? {} : { refresh_token: o.refreshToken }),
    ...(o.idToken === undefined ? {} : { id_token: o.idToken }),
  };
}

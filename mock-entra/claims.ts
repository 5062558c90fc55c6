/**
 * Pure builders for Entra v2.0 token claims (entra.md C.8, C.9, D.4 §5–6). Times are epoch seconds passed in,
 * so the same inputs give the same claims apart from the random per-token ids (`uti`, `aio`, `rh`).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { MockUser } from './types.js';

/** Issuer, tenant, "now" and lifetime for one token. */
export interface ClaimContext {
  issuer: string;
  tenantId: string;
  /** Epoch seconds. */
  now: number;
  /** Seconds. */
  lifetime: number;
}

/** The user-describing claims Entra (with NAIS optional claims) puts in user access tokens. */
export interface UserClaims {
  oid: string;
  name: string;
  preferred_username: string;
  NAVident: string;
  groups: string[];
  /** Groups overage: the token gets `_claim_names`/`_claim_sources` instead of `groups`. */
  groupsOverage?: boolean;
}

/** Entra's `sub` is pairwise: stable per (user, application), different across applications. */
export function pairwiseSub(oid: string, clientId: string): string {
  return createHash('sha256').update(`${oid}:${clientId}`).digest('base64url');
}

/** A deterministic GUID derived from `seed`, for ids that must be stable across runs (users, service principals). */
export function stableGuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The object id of a client's service principal: `oid` = `sub` in its app tokens. */
export function servicePrincipalOid(clientId: string): string {
  return stableGuid(`service-principal:${clientId}`);
}

/** A random opaque id (base64url), like Entra's `uti`. */
export function opaqueId(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}

function standard(ctx: ClaimContext, aud: string): Record<string, unknown> {
  return {
    aud,
    iss: ctx.issuer,
    iat: ctx.now,
    nbf: ctx.now,
    exp: ctx.now + ctx.lifetime,
    aio: opaqueId(48),
    rh: `0.A${opaqueId(40)}.`,
    tid: ctx.tenantId,
    uti: opaqueId(16),
    ver: '2.0',
  };
}

export function userClaimsOf(user: MockUser): UserClaims {
  return {
    oid: user.oid,
    name: user.name,
    preferred_username: user.username,
    NAVident: user.navIdent,
    groups: [...user.groups],
    ...(user.groupsOverage === true ? { groupsOverage: true } : {}),
  };
}

/** ID token claims; `nonce` only on login, `auth_time` only when `max_age` was requested. */
export function idTokenClaims(
  ctx: ClaimContext,
  o: { clientId: string; user: UserClaims; sid: string; nonce?: string; authTime?: number; acr?: string },
): Record<string, unknown> {
  return {
    ...standard(ctx, o.clientId),
    sub: pairwiseSub(o.user.oid, o.clientId),
    oid: o.user.oid,
    sid: o.sid,
    name: o.user.name,
    preferred_username: o.user.preferred_username,
    ...(o.nonce === undefined ? {} : { nonce: o.nonce }),
    ...(o.authTime === undefined ? {} : { auth_time: o.authTime }),
    ...(o.acr === undefined ? {} : { acr: o.acr }),
  };
}

/** A delegated (user) access token: code, refresh and OBO. No `idtyp`, like Entra's app+user tokens. */
export function userAccessTokenClaims(
  ctx: ClaimContext,
  o: { audience: string; azp: string; azpacr: string; user: UserClaims; scp: string; sid?: string },
): Record<string, unknown> {
  const { groupsOverage, groups, ...user } = o.user;
  return {
    ...standard(ctx, o.audience),
    azp: o.azp,
    azpacr: o.azpacr,
    sub: pairwiseSub(o.user.oid, o.audience),
    scp: o.scp,
    ...user,
    ...(groupsOverage === true ? overageClaims(ctx.tenantId, o.user.oid) : { groups: [...groups] }),
    ...(o.sid === undefined ? {} : { sid: o.sid }),
  };
}

/**
 * What Entra puts in place of `groups` when a user has too many (entra.md C.11): a pointer to a (legacy Azure AD
 * Graph) endpoint, which a client is expected to replace with a Microsoft Graph call of its own.
 */
export function overageClaims(tenantId: string, oid: string): Record<string, unknown> {
  return {
    _claim_names: { groups: 'src1' },
    _claim_sources: { src1: { endpoint: `https://graph.windows.net/${tenantId}/users/${oid}/getMemberObjects` } },
  };
}

/** An app-only access token (client credentials): `oid` = `sub` = the caller's service principal. */
export function appAccessTokenClaims(
  ctx: ClaimContext,
  o: { audience: string; azp: string; azpacr: string; azpName?: string; roles?: readonly string[] },
): Record<string, unknown> {
  const sp = servicePrincipalOid(o.azp);
  return {
    ...standard(ctx, o.audience),
    azp: o.azp,
    azpacr: o.azpacr,
    ...(o.azpName === undefined ? {} : { azp_name: o.azpName }),
    oid: sp,
    sub: sp,
    roles: [...(o.roles ?? ['access_as_application'])],
    idtyp: 'app',
  };
}

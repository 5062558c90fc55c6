import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { isGuid } from '../config/guid.js';
import { VestibuleError } from '../errors/registry.js';
import type { JwksCache } from './jwks.js';

export interface ValidationOptions {
  /** Required `aud` (this app's client id). */
  readonly audience: string;
  /** Expected `nonce` (ID tokens at login). */
  readonly nonce?: string;
  /**
   * Require a delegated user access token: app-only tokens (`idtyp: app`) and tokens without `scp` (ID tokens,
   * app tokens without `idtyp`) are rejected. On-behalf-of needs this: Entra exchanges only user tokens.
   */
  readonly requireUser?: boolean;
  /**
   * Require an Entra v2.0 access token, user or application, and refuse every other token our issuer signs for
   * our audience (an ID token above all: its `aud` is our client id too, and it travels in logout URLs as
   * `id_token_hint`). See {@link accessTokenProblem} for the rule. Protected paths and introspection need this.
   */
  readonly requireAccessToken?: boolean;
  /** Clock skew for exp, nbf and iat in seconds, instead of the validator's own (the token API uses Texas' 60). */
  readonly leewaySec?: number;
}

export interface TokenValidatorOptions {
  /**
   * The issuer; Entra's multi-tenant template `https://login.microsoftonline.com/{tenantid}/v2.0` is resolved per
   * token from its `tid`, which must then be one of `allowedTenants`.
   */
  readonly issuer: string;
  /** Multi-tenant only (VESTIBULE_ALLOWED_TENANTS, lower case): the tenants whose tokens are accepted. */
  readonly allowedTenants?: readonly string[] | undefined;
  /** Tenant id the `tid` claim must equal; derived from the issuer when omitted. */
  readonly tenantId?: string | undefined;
  readonly jwks: JwksCache;
  readonly leewaySec: number;
  readonly now?: () => number;
}

/**
 * The one place tokens are validated (ID tokens at login and refresh, access tokens on the token API and
 * protected paths): RS256 only, exact issuer, audience, exp/iat required, nbf honoured, tenant checked. Where an
 * access token is expected, callers pass `requireAccessToken` so an ID token of the same issuer and audience
 * cannot stand in for one.
 */
export class TokenValidator {
  readonly #o: TokenValidatorOptions;
  readonly #tenantId: string | undefined;
  readonly #multiTenant: boolean;

  constructor(options: TokenValidatorOptions) {
    this.#o = options;
    this.#multiTenant = options.issuer.includes(TENANT_TEMPLATE);
    if (this.#multiTenant && (options.allowedTenants ?? []).length === 0) {
      throw new TypeError('a multi-tenant issuer needs a non-empty list of allowed tenants');
    }
    this.#tenantId = this.#multiTenant ? undefined : (options.tenantId ?? tenantOf(options.issuer));
  }

  /**
   * The issuer this token must carry, and the tenant it must name: the configured ones, or for a multi-tenant
   * issuer the template resolved with the token's own `tid` once that is a GUID among the allowed tenants.
   */
  #expected(unverified: JWTPayload): { issuer: string; tenant: string | undefined } {
    if (!this.#multiTenant) return { issuer: this.#o.issuer, tenant: this.#tenantId };
    const tid = typeof unverified.tid === 'string' ? unverified.tid : undefined;
    if (tid === undefined || !isGuid(tid)) throw invalid('no tenant id ("tid") to resolve the issuer with', 'other');
    if (!(this.#o.allowedTenants ?? []).includes(tid.toLowerCase())) {
      throw invalid('tenant ("tid") is not among the allowed tenants', 'other');
    }
    return { issuer: this.#o.issuer.replace(TENANT_TEMPLATE, tid), tenant: tid };
  }

  get issuer(): string {
    return this.#o.issuer;
  }

  /**
   * Whether an `iss` sent beside a token (the authorization response's, a front-channel logout's) is ours: the
   * issuer itself, or for a multi-tenant issuer the template resolved with one of the allowed tenants.
   */
  isOurIssuer(iss: string): boolean {
    if (!this.#multiTenant) return iss === this.#o.issuer;
    return (this.#o.allowedTenants ?? []).some((tid) => iss === this.#o.issuer.replace(TENANT_TEMPLATE, tid));
  }

  /**
   * Verifies `token` and returns its claims.
   * @throws VestibuleError TOKEN_INVALID with a reason safe to show (never the token)
   */
  async validate(token: string, options: ValidationOptions): Promise<JWTPayload> {
    const leewaySec = options.leewaySec ?? this.#o.leewaySec;
    let kid: unknown;
    let alg: unknown;
    let unverified: JWTPayload;
    try {
      ({ kid, alg } = decodeProtectedHeader(token));
      unverified = decodeJwt(token);
    } catch {
      throw invalid('not a JWT', 'malformed');
    }
    if (alg !== 'RS256')
      throw invalid(`algorithm ${JSON.stringify(alg ?? 'none').slice(0, 24)} is not accepted; only RS256`, 'algorithm');
    if (typeof kid !== 'string' || kid === '') throw invalid('missing key id ("kid") in the token header', 'no_kid');
    // Rejecting a foreign issuer (or tenant) before the key lookup keeps other issuers' tokens (v1 ones included)
    // from triggering JWKS refetches, and gives the clear v1 message even when the v1 key is not ours.
    const expected = this.#expected(unverified);
    if (unverified.iss !== expected.issuer) {
      throw invalid(
        issuerProblem(unverified.iss, expected.issuer),
        unverified.iss === undefined ? 'missing_iss' : 'issuer',
      );
    }
    const key = await this.#o.jwks.key(kid);
    if (!key) throw invalid('signed with a key the identity provider does not publish (unknown "kid")', 'unknown_key');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms: ['RS256'],
        issuer: expected.issuer,
        audience: options.audience,
        clockTolerance: leewaySec,
        requiredClaims: ['exp', 'iat'],
        currentDate: this.#o.now ? new Date(this.#o.now()) : undefined,
      }));
    } catch (err) {
      throw invalid(describe(err), problemOf(err), err);
    }
    const nowSec = (this.#o.now?.() ?? Date.now()) / 1000;
    if (typeof payload.iat !== 'number' || payload.iat > nowSec + leewaySec)
      throw invalid('issued in the future ("iat")', 'immature');
    if (expected.tenant && payload.tid !== expected.tenant) throw invalid('wrong tenant ("tid")', 'other');
    if (options.nonce !== undefined && payload.nonce !== options.nonce)
      throw invalid('nonce does not match the login', 'other');
    if (options.requireAccessToken) {
      const problem = accessTokenProblem(payload);
      if (problem !== undefined) throw invalid(problem, 'other');
    }
    if (options.requireUser && payload.idtyp === 'app')
      throw invalid('an application token where a user token is required', 'other');
    if (options.requireUser && typeof payload.scp !== 'string')
      throw invalid('not a user access token (no "scp" claim) where a user token is required', 'other');
    return payload;
  }
}

/**
 * Why a verified token of our issuer and audience is not an Entra v2.0 access token, or undefined when it is one.
 * Entra signs ID and access tokens with the same keys and sets `typ: JWT` on both, so only the claims tell them
 * apart (entra.md C.8, C.9):
 * - `ver` is "2.0" (v1 tokens are refused by their issuer already; this also refuses a v1 shape under v2 iss);
 * - no `nonce`, `at_hash` or `c_hash`: those exist only in ID tokens;
 * - `azp`, the client that asked for the token, is present: every v2 access token has it, v2 ID tokens never;
 * - it is a user token or an application token, never both or neither:
 *   - user (delegated): a non-empty `scp`, and no `idtyp: app`;
 *   - application (client credentials): no `scp`, `idtyp` absent or "app", and at least one entry in `roles`.
 *     Entra hands an app-only token for our audience to ANY service principal in the tenant that asks, with no
 *     `roles` unless we granted it an app role; requiring one means only callers we authorised get through
 *     (NAIS grants `access_as_application` to every consumer its access policy allows).
 */
export function accessTokenProblem(payload: JWTPayload): string | undefined {
  if (payload.ver !== '2.0') return `not a v2.0 access token ("ver" is ${JSON.stringify(payload.ver ?? null)})`;
  const idTokenClaim = ['nonce', 'at_hash', 'c_hash'].find((claim) => payload[claim] !== undefined);
  if (idTokenClaim !== undefined)
    return `an ID token where an access token is required ("${idTokenClaim}" is only in ID tokens)`;
  if (typeof payload.azp !== 'string' || payload.azp === '')
    return 'not an access token (no "azp" claim, as in an ID token) where an access token is required';
  const hasScp = typeof payload.scp === 'string' && payload.scp.trim() !== '';
  if (payload.scp !== undefined && !hasScp) return 'an empty or malformed "scp" claim';
  const roles = Array.isArray(payload.roles) ? payload.roles.filter((r) => typeof r === 'string' && r !== '') : [];
  if (payload.idtyp === 'app') {
    if (hasScp) return 'both "idtyp": "app" and "scp": neither a user nor an application token';
    if (roles.length === 0) return 'an application token with no "roles" (no app role was granted to the caller)';
    return undefined;
  }
  if (hasScp) return undefined;
  if (payload.idtyp !== undefined) return `a token with "idtyp" ${JSON.stringify(payload.idtyp)} but no "scp"`;
  if (roles.length === 0) return 'neither "scp" nor "roles": not a user or application access token';
  return undefined;
}

/**
 * Which check a token failed, for callers that answer in another system's words (the token API answers as Texas
 * does). `missing_<claim>`: a required claim is absent; `other`: a check of ours that Texas does not make
 * (tenant, token type, nonce).
 */
export type TokenProblem =
  | 'malformed'
  | 'algorithm'
  | 'no_kid'
  | 'unknown_key'
  | 'issuer'
  | 'audience'
  | 'expired'
  | 'immature'
  | 'signature'
  | `missing_${string}`
  | 'other';

/** TOKEN_INVALID with the reason shown to callers and the {@link TokenProblem} it is an instance of. */
export class TokenInvalidError extends VestibuleError {
  readonly problem: TokenProblem;

  constructor(reason: string, problem: TokenProblem, cause?: unknown) {
    super('TOKEN_INVALID', reason, { cause });
    this.name = 'TokenInvalidError';
    this.problem = problem;
  }
}

function invalid(reason: string, problem: TokenProblem, cause?: unknown): TokenInvalidError {
  return new TokenInvalidError(reason, problem, cause);
}

function problemOf(err: unknown): TokenProblem {
  if (err instanceof joseErrors.JWTExpired) return 'expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return `missing_${err.claim}`;
    if (err.claim === 'iss') return 'issuer';
    if (err.claim === 'aud') return 'audience';
    if (err.claim === 'nbf' || err.claim === 'iat') return 'immature';
    return 'other';
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'signature';
  if (err instanceof joseErrors.JWTInvalid || err instanceof joseErrors.JWSInvalid) return 'malformed';
  return 'other';
}

/** Entra's placeholder in the issuer of the multi-tenant (organizations, common) metadata. */
export const TENANT_TEMPLATE = '{tenantid}';

/** The tenant GUID in an Entra issuer `https://login.microsoftonline.com/<tid>/v2.0`. */
export function tenantOf(issuer: string): string | undefined {
  return /\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/v2\.0\/?$/i
    .exec(issuer)?.[1]
    ?.toLowerCase();
}

/** Why `iss` is not the expected issuer; v1.0 tokens get their own message since the fix is in the app registration. */
function issuerProblem(iss: unknown, issuer: string): string {
  if (iss === undefined) return 'missing required claim "iss"';
  if (typeof iss === 'string' && iss.startsWith('https://sts.windows.net/')) {
    return `a v1.0 token (issuer ${JSON.stringify(iss)}); only v2.0 tokens from ${JSON.stringify(issuer)} are accepted: set requestedAccessTokenVersion=2`;
  }
  return 'wrong issuer ("iss")';
}

function describe(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'expired ("exp")';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return `missing required claim ${JSON.stringify(err.claim)}`;
    if (err.reason === 'invalid') return `claim ${JSON.stringify(err.claim)} is not a number`;
    if (err.claim === 'iss') return 'wrong issuer ("iss")';
    if (err.claim === 'aud') return 'wrong audience ("aud")';
    if (err.claim === 'nbf') return 'not yet valid ("nbf")';
    if (err.claim === 'iat') return 'issued in the future ("iat")';
    return `claim ${JSON.stringify(err.claim)} is not valid`;
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'signature does not verify';
  if (err instanceof joseErrors.JWTInvalid || err instanceof joseErrors.JWSInvalid) return 'malformed token';
  return 'could not be verified';
}

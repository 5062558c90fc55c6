import { decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { VestibuleError } from '../errors.js';
import type { JwksCache } from './jwks.js';

export interface ValidationOptions {
  /** Required `aud` (this app's client id). */
  readonly audience: string;
  /** Expected `nonce` (ID tokens at login). */
  readonly nonce?: string;
  /** Reject app-only tokens (`idtyp: app`): e.g. on-behalf-of needs a user. */
  readonly requireUser?: boolean;
}

export interface TokenValidatorOptions {
  readonly issuer: string;
  /** Tenant id the `tid` claim must equal; derived from the issuer when omitted. */
  readonly tenantId?: string | undefined;
  readonly jwks: JwksCache;
  readonly leewaySec: number;
  readonly now?: () => number;
}

/**
 * The one place tokens are validated (ID tokens at login and refresh, access tokens on the token API and
 * protected paths): RS256 only, exact issuer, audience, exp/iat required, nbf honoured, tenant checked.
 */
export class TokenValidator {
  readonly #o: TokenValidatorOptions;
  readonly #tenantId: string | undefined;

  constructor(options: TokenValidatorOptions) {
    this.#o = options;
    this.#tenantId = options.tenantId ?? tenantOf(options.issuer);
  }

  get issuer(): string {
    return this.#o.issuer;
  }

  /**
   * Verifies `token` and returns its claims.
   * @throws VestibuleError TOKEN_INVALID with a reason safe to show (never the token)
   */
  async validate(token: string, options: ValidationOptions): Promise<JWTPayload> {
    let kid: string | undefined;
    let alg: string | undefined;
    try {
      ({ kid, alg } = decodeProtectedHeader(token));
    } catch {
      throw invalid('not a JWT');
    }
    if (alg !== 'RS256') throw invalid(`algorithm ${JSON.stringify(alg ?? 'none')} is not accepted; only RS256`);
    if (!kid) throw invalid('missing key id ("kid") in the token header');
    const key = await this.#o.jwks.key(kid);
    if (!key) throw invalid('signed with a key the identity provider does not publish (unknown "kid")');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms: ['RS256'],
        issuer: this.#o.issuer,
        audience: options.audience,
        clockTolerance: this.#o.leewaySec,
        requiredClaims: ['exp', 'iat'],
        currentDate: this.#o.now ? new Date(this.#o.now()) : undefined,
      }));
    } catch (err) {
      throw invalid(describe(err, token, this.#o.issuer), err);
    }
    const nowSec = (this.#o.now?.() ?? Date.now()) / 1000;
    if (typeof payload.iat !== 'number' || payload.iat > nowSec + this.#o.leewaySec)
      throw invalid('issued in the future ("iat")');
    if (this.#tenantId && payload.tid !== this.#tenantId) throw invalid('wrong tenant ("tid")');
    if (options.nonce !== undefined && payload.nonce !== options.nonce) throw invalid('nonce does not match the login');
    if (options.requireUser && payload.idtyp === 'app')
      throw invalid('an application token where a user token is required');
    return payload;
  }
}

function invalid(reason: string, cause?: unknown): VestibuleError {
  return new VestibuleError('TOKEN_INVALID', reason, { cause });
}

/** The tenant GUID in an Entra issuer `https://login.microsoftonline.com/<tid>/v2.0`. */
export function tenantOf(issuer: string): string | undefined {
  return /\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/v2\.0\/?$/i
    .exec(issuer)?.[1]
    ?.toLowerCase();
}

function describe(err: unknown, token: string, issuer: string): string {
  if (err instanceof joseErrors.JWTExpired) return 'expired ("exp")';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') {
      const iss = issOf(token);
      if (iss?.startsWith('https://sts.windows.net/')) {
        return `a v1.0 token (issuer ${JSON.stringify(iss)}); only v2.0 tokens from ${JSON.stringify(issuer)} are accepted — set requestedAccessTokenVersion=2`;
      }
      return 'wrong issuer ("iss")';
    }
    if (err.claim === 'aud') return 'wrong audience ("aud")';
    if (err.claim === 'nbf') return 'not yet valid ("nbf")';
    if (err.claim === 'iat') return 'issued in the future ("iat")';
    if (err.reason === 'missing') return `missing required claim ${JSON.stringify(err.claim)}`;
    return `claim ${JSON.stringify(err.claim)} is not valid`;
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'signature does not verify';
  if (err instanceof joseErrors.JWTInvalid || err instanceof joseErrors.JWSInvalid) return 'malformed token';
  return 'could not be verified';
}

function issOf(token: string): string | undefined {
  try {
    const part = token.split('.')[1] ?? '';
    const v = (JSON.parse(Buffer.from(part, 'base64url').toString()) as { iss?: unknown }).iss;
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

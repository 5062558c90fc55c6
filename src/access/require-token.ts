import type { JWTPayload } from 'jose';
import type { TokenRule } from '../config/settings.js';
import { isVestibuleError } from '../errors/registry.js';
import { compilePathGlobs, normalizePath } from '../paths/path-match.js';
import type { TokenValidator } from '../oidc/token-validator.js';

/** What the proxy does with a request: pass it on (`protected: false` or `ok`), or answer 401/403 itself. */
export interface RequireTokenDecision {
  readonly protected: boolean;
  readonly ok?: true;
  readonly status?: 401 | 403;
  /** The `WWW-Authenticate` header to send with the 401/403 (RFC 6750 §3). */
  readonly wwwAuthenticate?: string;
  /** Why, for the log (never contains the token). */
  readonly reason?: string;
}

export type RequireToken = (
  rawPath: string,
  authorization: string | undefined,
  sessionAccessToken: string | undefined,
) => Promise<RequireTokenDecision>;

interface CompiledRule {
  readonly rule: TokenRule;
  readonly matches: (normalizedPath: string | null) => boolean;
}

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * The protected-paths check of `VESTIBULE_REQUIRE_TOKEN_PATHS`, for the proxy's pre-handler. The raw request
 * target's path (a query is cut off) is normalised; a path with no canonical form (an encoded slash, `..;`, …)
 * counts as matching EVERY rule, so an odd spelling can never dodge a stricter rule. Rules match in any case
 * (`/api/**` covers `/API/x` and `/%41pi/x`), as the app's router may. No matching rule: not protected. Otherwise the token (the browser session's access
 * token when there is a session, else `Authorization: Bearer`) must pass the shared validation with
 * audience = this app and be an access token, user (`scp`) or application (`roles`), never an ID token
 * (401 `invalid_token`), and every matching rule must be satisfied: one of its roles in
 * `roles`, or one of its scopes in `scp` (403 `insufficient_scope`). A missing token gets a bare `Bearer`
 * challenge, as RFC 6750 §3.1 asks.
 */
export function createRequireToken(
  rules: readonly TokenRule[],
  validator: TokenValidator,
  clientId: string,
): RequireToken {
  // Case-insensitive (and on the percent-decoded canonical path): a rule must cover every spelling the app's
  // router may send to the same handler; matching more paths than named can only protect more.
  const compiled: CompiledRule[] = rules.map((rule) => ({
    rule,
    matches: compilePathGlobs([rule.pattern], { caseInsensitive: true }),
  }));
  return async (rawPath, authorization, sessionAccessToken) => {
    if (compiled.length === 0) return { protected: false };
    const query = rawPath.indexOf('?');
    const path = normalizePath(query < 0 ? rawPath : rawPath.slice(0, query));
    const applicable = path === null ? compiled : compiled.filter((c) => c.matches(path));
    if (applicable.length === 0) return { protected: false };

    const token = sessionAccessToken ?? bearerToken(authorization);
    if (token === undefined) return { protected: true, status: 401, wwwAuthenticate: 'Bearer', reason: 'no token' };
    if (token === null) return invalidToken('malformed Authorization header');
    let claims: JWTPayload;
    try {
      claims = await validator.validate(token, { audience: clientId, requireAccessToken: true });
    } catch (err) {
      if (isVestibuleError(err) && err.code === 'TOKEN_INVALID') return invalidToken(err.detail ?? 'invalid token');
      throw err;
    }
    for (const { rule } of applicable) {
      if (!satisfies(rule, claims)) {
        const reason = `requires ${describeRule(rule)}`;
        return {
          protected: true,
          status: 403,
          wwwAuthenticate: `Bearer error="insufficient_scope", error_description="${headerSafe(reason)}"`,
          reason,
        };
      }
    }
    return { protected: true, ok: true };
  };
}

/**
 * The bearer token of an `Authorization` header: undefined when there is no bearer credential at all (no header,
 * or another scheme), null when the header says Bearer but is malformed.
 */
export function bearerToken(authorization: string | undefined): string | undefined | null {
  if (authorization === undefined) return undefined;
  if (!/^bearer(?: |$)/i.test(authorization.trimStart())) return undefined;
  return BEARER.exec(authorization.trim())?.[1] ?? null;
}

/**
 * A rule without roles or scopes only needs a valid access token (any user token, or an application token
 * carrying at least one of our app roles); otherwise any one listed role or scope suffices.
 */
export function satisfies(rule: TokenRule, claims: JWTPayload): boolean {
  if (rule.roles.length === 0 && rule.scopes.length === 0) return true;
  const roles = Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === 'string') : [];
  const scopes = typeof claims.scp === 'string' ? claims.scp.split(' ').filter(Boolean) : [];
  return rule.roles.some((r) => roles.includes(r)) || rule.scopes.some((s) => scopes.includes(s));
}

function describeRule(rule: TokenRule): string {
  const parts = [
    rule.roles.length > 0 ? `one of the roles ${rule.roles.join(', ')}` : '',
    rule.scopes.length > 0 ? `one of the scopes ${rule.scopes.join(', ')}` : '',
  ].filter(Boolean);
  return parts.join(' or ');
}

function invalidToken(reason: string): RequireTokenDecision {
  return {
    protected: true,
    status: 401,
    wwwAuthenticate: `Bearer error="invalid_token", error_description="${headerSafe(reason)}"`,
    reason,
  };
}

/** RFC 6750 §3: error_description is %x20-21 / %x23-5B / %x5D-7E, so no `"`, no `\`, ASCII only. */
export function headerSafe(text: string): string {
  return text
    .replaceAll('"', "'")
    .replaceAll('\\', '/')
    .replace(/[^\x20-\x7e]/g, '-');
}

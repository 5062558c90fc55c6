import type { JWTPayload } from 'jose';
import type { PreAuthorizedApp, TokenRule } from '../config/settings.js';
import { isVestibuleError } from '../errors/registry.js';
import { compilePathGlobs, normalizePath } from '../paths/path-match.js';
import type { TokenValidator } from '../oidc/token-validator.js';
import type { ActiveSession } from '../session/manager.js';
import type { GroupsResolver, GroupsSubject } from './groups-resolver.js';
import {
  groupsOverage,
  NOT_PROTECTED,
  rolesOf,
  scopesOf,
  stringArray,
  type GroupsFact,
  type ProtectedFacts,
  type TokenClaims,
} from './token-facts.js';

/** The browser session whose access token a protected path judges (rather than an `Authorization` header). */
export interface SessionToken {
  readonly accessToken: string;
  /** Tells this session's cached Graph answer from another session's of the same user. */
  readonly sessionId: string;
  /** The session's hard end (epoch ms): a Graph answer is kept no longer. */
  readonly endsAt: number;
}

/** The {@link SessionToken} of an authenticated session: the proxy's and forward-auth's one spelling of it. */
export function sessionTokenOf(active: ActiveSession): SessionToken {
  const record = active.session.record;
  return {
    accessToken: active.accessToken,
    sessionId: `${record.createdAt} ${record.claims.sid ?? ''}`,
    endsAt: record.endsAt,
  };
}

export type RequireToken = (
  rawPath: string,
  authorization: string | undefined,
  session: SessionToken | undefined,
) => Promise<ProtectedFacts>;

export interface RequireTokenOptions {
  readonly rules: readonly TokenRule[];
  readonly validator: TokenValidator;
  readonly clientId: string;
  /** AZURE_APP_PRE_AUTHORIZED_APPS when set (even empty), null when unset. */
  readonly callerAllowList?: readonly PreAuthorizedApp[] | null | undefined;
  /** Asks Microsoft Graph for the groups Entra left out of a token; without it such groups are unavailable. */
  readonly groups?: GroupsResolver | undefined;
}

interface CompiledRule {
  readonly rule: TokenRule;
  readonly matches: (normalizedPath: string | null) => boolean;
}

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * Gathers the protected-path facts of `VESTIBULE_REQUIRE_TOKEN_PATHS` for the proxy's pre-handler; `decideAccess`
 * judges them. The raw request target's path (a query is cut off) is normalised; a path with no canonical form
 * (an encoded slash, `..;`, …) counts as matching EVERY rule, so an odd spelling can never dodge a stricter rule.
 * Rules match in any case (`/api/**` covers `/API/x` and `/%41pi/x`), as the app's router may. No matching rule:
 * not protected. Otherwise the token (the browser session's access token when there is a session, else
 * `Authorization: Bearer`) must pass the shared validation with audience = this app and be an access token,
 * user (`scp`) or application (`roles`), never an ID token; its claims become the facts. When a matching rule
 * names groups and Entra left them out (overage), they are looked up in Microsoft Graph here, before the
 * decision.
 */
export function createRequireToken(o: RequireTokenOptions): RequireToken {
  // Case-insensitive (and on the percent-decoded canonical path): a rule must cover every spelling the app's
  // router may send to the same handler; matching more paths than named can only protect more.
  const compiled: CompiledRule[] = o.rules.map((rule) => ({
    rule,
    matches: compilePathGlobs([rule.pattern], { caseInsensitive: true }),
  }));
  const allowedCallers =
    o.callerAllowList === null || o.callerAllowList === undefined
      ? undefined
      : new Set([o.clientId, ...o.callerAllowList.map((a) => a.clientId)]);
  return async (rawPath, authorization, session) => {
    if (compiled.length === 0) return NOT_PROTECTED;
    const query = rawPath.indexOf('?');
    const path = normalizePath(query < 0 ? rawPath : rawPath.slice(0, query));
    const applicable = path === null ? compiled : compiled.filter((c) => c.matches(path));
    if (applicable.length === 0) return NOT_PROTECTED;
    const rules = applicable.map((c) => c.rule);
    const facts = (token: Extract<ProtectedFacts, { protected: true }>['token']): ProtectedFacts => ({
      protected: true,
      rules,
      allowedCallers,
      token,
    });

    const token = session?.accessToken ?? bearerToken(authorization);
    if (token === undefined) return facts({ kind: 'missing' });
    if (token === null) return facts({ kind: 'invalid', reason: 'malformed Authorization header' });
    let claims: JWTPayload;
    try {
      claims = await o.validator.validate(token, { audience: o.clientId, requireAccessToken: true });
    } catch (err) {
      if (isVestibuleError(err) && err.code === 'TOKEN_INVALID') {
        return facts({ kind: 'invalid', reason: err.detail ?? 'invalid token' });
      }
      throw err;
    }
    const needsGroups = rules.some((r) => r.groups.length > 0);
    const groups = needsGroups ? await groupsFact(claims, session, o.groups) : tokenGroups(claims);
    return facts({
      kind: 'valid',
      source: session === undefined ? 'bearer' : 'session',
      claims: tokenClaimsOf(claims, groups),
    });
  };
}

/** The claims the rules judge, from a validated access token's payload. */
export function tokenClaimsOf(claims: JWTPayload, groups: GroupsFact): TokenClaims {
  return {
    roles: rolesOf(claims),
    scopes: scopesOf(claims),
    azp: typeof claims.azp === 'string' ? claims.azp : undefined,
    acrs: stringArray(claims.acrs),
    groups,
  };
}

/** The groups a token carries itself; a token without the claim (and no overage marker) has none. */
function tokenGroups(claims: JWTPayload): GroupsFact {
  return { kind: 'known', ids: stringArray(claims.groups), from: 'token' };
}

/**
 * The groups of the token's user: its own `groups` claim, or on overage Microsoft Graph's answer (cached by
 * the resolver), or `unavailable` when there is no resolver or no `oid` to ask about.
 */
export async function groupsFact(
  claims: JWTPayload,
  session: SessionToken | undefined,
  resolver: GroupsResolver | undefined,
): Promise<GroupsFact> {
  if (!groupsOverage(claims)) return tokenGroups(claims);
  const oid = typeof claims.oid === 'string' ? claims.oid : undefined;
  if (resolver === undefined) return { kind: 'unavailable', reason: 'groups overage and no Graph lookup configured' };
  if (oid === undefined) return { kind: 'unavailable', reason: 'groups overage in a token without oid' };
  const subject: GroupsSubject = {
    oid,
    tid: typeof claims.tid === 'string' ? claims.tid : undefined,
    scope:
      session === undefined
        ? { kind: 'bearer', expiresAt: (claims.exp ?? 0) * 1000 }
        : { kind: 'session', sessionId: session.sessionId, endsAt: session.endsAt },
  };
  return resolver.groupsOf(subject);
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

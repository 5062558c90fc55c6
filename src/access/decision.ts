import type { TokenRule } from '../config/settings.js';
import { acrsClaimsRequest } from './step-up-url.js';
import type { ProtectedFacts, TokenClaims } from './token-facts.js';

/** What is known about a proxied request when access is decided; gathered by the caller, judged here. */
export interface AccessFacts {
  /** Why the request target may not reach the app (answered 400), or undefined. */
  readonly targetProblem: string | undefined;
  /** The browser session: a token to forward, none, or the store could not be read. */
  readonly session:
    | { readonly kind: 'active'; readonly accessToken: string }
    | { readonly kind: 'none' }
    | { readonly kind: 'unavailable' };
  /** The protected-path rules (VESTIBULE_REQUIRE_TOKEN_PATHS) that match, and this request's token. */
  readonly token: ProtectedFacts;
  /** A CORS preflight with VESTIBULE_SKIP_AUTH_PREFLIGHT on: passed on without any authentication. */
  readonly preflight: boolean;
  /** VESTIBULE_AUTO_LOGIN. */
  readonly autoLogin: boolean;
  /** The path is exempt from auto-login (VESTIBULE_AUTO_LOGIN_IGNORE, /favicon.ico, /robots.txt). */
  readonly loginExempt: boolean;
  /** A top-level browser navigation, which can follow a redirect to the identity provider. */
  readonly navigation: boolean;
  /**
   * The request asks to switch protocols: `websocket` for a GET with `Upgrade: websocket` (any case), `other`
   * for any other upgrade (`h2c`, a list, a POST upgrade), `none` for a plain request.
   */
  readonly upgrade: 'none' | 'websocket' | 'other';
  /** A page of another site made the request, by Fetch Metadata or else Origin (`request/cross-site.ts`). */
  readonly crossSite: boolean;
  /** POST, PUT, PATCH or DELETE: a request that may change something in the app. */
  readonly unsafeMethod: boolean;
  /** VESTIBULE_CSRF_CHECK: refuse cross-site unsafe requests that would carry a session's token. */
  readonly csrfCheck: boolean;
}

/** What happens to the request. */
export type AccessVerdict =
  /** Passed to the app, with the session's token when there is one. */
  | { readonly kind: 'forward'; readonly accessToken: string | undefined }
  /** 400: the target is not a plain path, the Host is malformed, or an upgrade to anything but a websocket. */
  | { readonly kind: 'bad_request'; readonly reason: string }
  /** 403: a page of another site would use the session (a websocket, or an unsafe method with the CSRF check). */
  | { readonly kind: 'forbidden'; readonly reason: string }
  /** 503: auto-login is on but the session store cannot be read (a login loop would not help). */
  | { readonly kind: 'store_unavailable' }
  /**
   * 401/403 from the protected-path rules, with the RFC 6750 challenge: `token` (none, or invalid: 401),
   * `scope` (roles/scopes: 403), `caller` (azp not allowed: 403), `group` (403), `claims` (a bearer token without
   * a required authentication context: 401 `insufficient_claims` with the claims to ask for).
   */
  | {
      readonly kind: 'deny';
      readonly status: 401 | 403;
      readonly why: DenyReason;
      readonly wwwAuthenticate: string | undefined;
      readonly reason: string;
    }
  /** 503: a rule needs the user's groups, Entra left them out, and Microsoft Graph could not be asked. */
  | { readonly kind: 'groups_unavailable'; readonly reason: string }
  /** Send the user to log in: a redirect for a navigation, a 401 with the login URL otherwise. */
  | { readonly kind: 'login'; readonly via: 'redirect' | 'challenge' }
  /**
   * The session lacks an authentication context a rule requires: log in again asking for it (`claims`, the
   * OIDC claims request as JSON), by redirect for a navigation, a 401 with the login URL otherwise.
   */
  | { readonly kind: 'step_up'; readonly via: 'redirect' | 'challenge'; readonly claims: string };

export type DenyReason = 'token' | 'scope' | 'caller' | 'group' | 'claims';

/**
 * The one access decision of the proxy (and of forward-auth): a pure function of the facts, so every rule
 * kind is table-tested in one place. Order matters and is the policy: a malformed target is refused before
 * anything else, and so is an upgrade to anything but a websocket (an `h2c` tunnel would carry requests
 * past every check here); a configured CORS preflight passes with no token at all; a websocket opened by a
 * page of another site is refused whatever the session (cross-site websocket hijacking); a store outage with
 * auto-login is 503; with the CSRF check, an unsafe method from another site is refused when a session would
 * lend it a token; protected paths decide on their own ({@link judgeToken}: a session without what a rule
 * requires is refused, never sent to login, except to step up an authentication context); otherwise an
 * anonymous request goes to login only with auto-login on and outside the exempt paths.
 */
export function decideAccess(f: AccessFacts): AccessVerdict {
  if (f.targetProblem !== undefined) return { kind: 'bad_request', reason: f.targetProblem };
  if (f.upgrade === 'other') return { kind: 'bad_request', reason: 'only websocket upgrades (GET) are proxied' };
  if (f.preflight && f.upgrade === 'none') return { kind: 'forward', accessToken: undefined };
  if (f.upgrade === 'websocket' && f.crossSite) {
    return { kind: 'forbidden', reason: 'websocket opened from another site' };
  }
  if (f.session.kind === 'unavailable' && f.autoLogin) return { kind: 'store_unavailable' };
  const accessToken = f.session.kind === 'active' ? f.session.accessToken : undefined;
  if (f.csrfCheck && f.unsafeMethod && f.crossSite && accessToken !== undefined) {
    return { kind: 'forbidden', reason: 'cross-site request with a session' };
  }
  if (f.token.protected) return judgeToken(f.token, f.navigation) ?? { kind: 'forward', accessToken };
  if (accessToken !== undefined || !f.autoLogin || f.loginExempt) return { kind: 'forward', accessToken };
  return { kind: 'login', via: f.navigation ? 'redirect' : 'challenge' };
}

/**
 * The protected-path rules against the token: undefined when it may pass. A missing or invalid token is 401;
 * an `azp` outside the caller allow-list (AZURE_APP_PRE_AUTHORIZED_APPS plus this app) is 403; then, rule by
 * rule, its callers, its roles/scopes (any one of either), its groups (any one; 503 when they are unknown);
 * only when every rule holds in all of that, the authentication contexts (`acrs`): a session steps up, a
 * bearer caller gets RFC 6750's 401 `insufficient_claims` with the claims to ask Entra for. Stepping up cannot
 * help a user that a rule refuses for another reason, so those come first.
 */
function judgeToken(p: Extract<ProtectedFacts, { protected: true }>, navigation: boolean): AccessVerdict | undefined {
  const t = p.token;
  if (t.kind === 'missing') return deny(401, 'token', 'no token', 'Bearer');
  if (t.kind === 'invalid') return deny(401, 'token', t.reason, bearerError('invalid_token', t.reason));
  const c = t.claims;
  if (p.allowedCallers !== undefined && (c.azp === undefined || !p.allowedCallers.has(c.azp))) {
    return deny(403, 'caller', 'the calling application (azp) is not pre-authorized', undefined);
  }
  for (const rule of p.rules) {
    if (rule.callers.length > 0 && (c.azp === undefined || !rule.callers.includes(c.azp))) {
      return deny(403, 'caller', `requires one of the callers ${rule.callers.join(', ')}`, undefined);
    }
    if (!rolesOrScopesHold(rule, c)) {
      const reason = `requires ${describeRolesAndScopes(rule)}`;
      return deny(403, 'scope', reason, bearerError('insufficient_scope', reason));
    }
    if (rule.groups.length > 0) {
      if (c.groups.kind === 'unavailable') return { kind: 'groups_unavailable', reason: c.groups.reason };
      const ids = c.groups.ids;
      if (!rule.groups.some((g) => ids.includes(g))) {
        const reason = `requires membership of one of the groups ${rule.groups.join(', ')}`;
        return deny(403, 'group', reason, bearerError('insufficient_scope', reason));
      }
    }
  }
  for (const rule of p.rules) {
    if (rule.acrs.length === 0 || rule.acrs.some((a) => c.acrs.includes(a))) continue;
    const claims = acrsClaimsRequest(rule.acrs);
    if (t.source === 'session') return { kind: 'step_up', via: navigation ? 'redirect' : 'challenge', claims };
    const reason = `requires the authentication context ${rule.acrs.join(' or ')}`;
    const challenge = `${bearerError('insufficient_claims', reason)}, claims="${Buffer.from(claims).toString('base64')}"`;
    return deny(401, 'claims', reason, challenge);
  }
  return undefined;
}

/**
 * A rule without roles or scopes needs neither (any valid access token: a user token, or an application token
 * carrying at least one of our app roles, as the validator checks); otherwise any one listed role or scope.
 */
export function rolesOrScopesHold(rule: TokenRule, c: Pick<TokenClaims, 'roles' | 'scopes'>): boolean {
  if (rule.roles.length === 0 && rule.scopes.length === 0) return true;
  return rule.roles.some((r) => c.roles.includes(r)) || rule.scopes.some((s) => c.scopes.includes(s));
}

function describeRolesAndScopes(rule: TokenRule): string {
  const parts = [
    rule.roles.length > 0 ? `one of the roles ${rule.roles.join(', ')}` : '',
    rule.scopes.length > 0 ? `one of the scopes ${rule.scopes.join(', ')}` : '',
  ].filter(Boolean);
  return parts.join(' or ');
}

function deny(status: 401 | 403, why: DenyReason, reason: string, wwwAuthenticate: string | undefined): AccessVerdict {
  return { kind: 'deny', status, why, wwwAuthenticate, reason };
}

/** `Bearer error="…", error_description="…"` (RFC 6750 §3). */
function bearerError(error: string, description: string): string {
  return `Bearer error="${error}", error_description="${headerSafe(description)}"`;
}

/** RFC 6750 §3: error_description is %x20-21 / %x23-5B / %x5D-7E, so no `"`, no `\`, ASCII only. */
export function headerSafe(text: string): string {
  return text
    .replaceAll('"', "'")
    .replaceAll('\\', '/')
    .replace(/[^\x20-\x7e]/g, '-');
}

export { NOT_PROTECTED } from './token-facts.js';

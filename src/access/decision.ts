import type { RequireTokenDecision } from './require-token.js';

/** What is known about a proxied request when access is decided; gathered by the caller, judged here. */
export interface AccessFacts {
  /** Why the request target may not reach the app (answered 400), or undefined. */
  readonly targetProblem: string | undefined;
  /** The browser session: a token to forward, none, or the store could not be read. */
  readonly session:
    | { readonly kind: 'active'; readonly accessToken: string }
    | { readonly kind: 'none' }
    | { readonly kind: 'unavailable' };
  /** The protected-path check (VESTIBULE_REQUIRE_TOKEN_PATHS) of this request's token. */
  readonly token: RequireTokenDecision;
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
  /** 401/403 from the protected-path rules, with the RFC 6750 challenge. */
  | {
      readonly kind: 'deny';
      readonly status: 401 | 403;
      readonly wwwAuthenticate: string | undefined;
      readonly reason: string | undefined;
    }
  /** Send the user to log in: a redirect for a navigation, a 401 with the login URL otherwise. */
  | { readonly kind: 'login'; readonly via: 'redirect' | 'challenge' };

/**
 * The one access decision of the proxy (and of forward-auth): a pure function of the facts, so every rule
 * kind is table-tested in one place. Order matters and is the policy: a malformed target is refused before
 * anything else, and so is an upgrade to anything but a websocket (an `h2c` tunnel would carry requests
 * past every check here); a websocket opened by a page of another site is refused whatever the session
 * (cross-site websocket hijacking); a store outage with auto-login is 503; with the CSRF check, an unsafe
 * method from another site is refused when a session would lend it a token; protected paths decide on
 * their own (a session without the required token is refused, never sent to login); otherwise an anonymous
 * request goes to login only with auto-login on and outside the exempt paths.
 */
export function decideAccess(f: AccessFacts): AccessVerdict {
  if (f.targetProblem !== undefined) return { kind: 'bad_request', reason: f.targetProblem };
  if (f.upgrade === 'other') return { kind: 'bad_request', reason: 'only websocket upgrades (GET) are proxied' };
  if (f.upgrade === 'websocket' && f.crossSite) {
    return { kind: 'forbidden', reason: 'websocket opened from another site' };
  }
  if (f.session.kind === 'unavailable' && f.autoLogin) return { kind: 'store_unavailable' };
  const accessToken = f.session.kind === 'active' ? f.session.accessToken : undefined;
  if (f.csrfCheck && f.unsafeMethod && f.crossSite && accessToken !== undefined) {
    return { kind: 'forbidden', reason: 'cross-site request with a session' };
  }
  if (f.token.protected) {
    if (f.token.ok === true) return { kind: 'forward', accessToken };
    return {
      kind: 'deny',
      status: f.token.status ?? 401,
      wwwAuthenticate: f.token.wwwAuthenticate,
      reason: f.token.reason,
    };
  }
  if (accessToken !== undefined || !f.autoLogin || f.loginExempt) return { kind: 'forward', accessToken };
  return { kind: 'login', via: f.navigation ? 'redirect' : 'challenge' };
}

/** The facts of a path no protected-path rule covers. */
export const NOT_PROTECTED: RequireTokenDecision = { protected: false };
